/**
 * The index of unfinished workflows a runtime starts from (docs/runtime.md, "Start-up"): a stream of
 * checkpoints, each the workflows in flight as of a position of the workflow category, written by
 * the runtimes while they run and when they stop. A runtime starts by reading the last checkpoint,
 * folding the workflows it names, and catching up from its position: what is in flight plus the tail,
 * never the completed history.
 *
 * A checkpoint is a snapshot, never updated in place: every workflow in flight with all its events
 * at or before the position is in it (a workflow that ended since is read, found ended and dropped;
 * one that started since is in the tail). So a crash between a workflow's end and the next
 * checkpoint neither loses nor resurrects it, and checkpoints of several runtimes interleave safely:
 * each alone is correct.
 *
 * One stream per leased partition (`cadenza-inflight-<table>-<partition>`, partitions.ts), written by
 * the partition's owner, since a runtime knows only the workflows of the partitions it owns: a
 * runtime that gains a partition reads that partition's last checkpoint and its tail. The stream per
 * set of hosted definitions (`inFlightIndexStream`) is what stores written before ownership hold:
 * read as the fallback, no longer written.
 */
import { createHash, randomUUID } from 'node:crypto';
import { StreamNotFoundError } from '../../store/errors.js';
import type { EventStore, Position } from '../../store/port.js';

export const IN_FLIGHT_INDEX_PREFIX = 'cadenza-inflight-';
export const IN_FLIGHT_CHECKPOINT = 'InFlightCheckpoint';
/**
 * Events considered between the positions the runtime's subscription reports (its own appends are
 * passed over unread, so these are what moves its position on). A checkpoint's position trails the
 * log by at most this many events: the tail a restart reads beyond what is in flight.
 */
export const INDEX_POSITION_INTERVAL = 32;

export interface InFlightCheckpoint {
  /** Every workflow event at or before it was known when the checkpoint was taken (exclusive start of the tail). */
  readonly position: Position;
  /** Workflows in flight as of the position (and maybe some that ended just after: read and dropped). */
  readonly workflows: readonly string[];
}

/** The index stream of a runtime hosting `hosted` (`name@version` keys), or every definition. */
export function inFlightIndexStream(hosted: ReadonlySet<string> | undefined): string {
  if (hosted === undefined) return `${IN_FLIGHT_INDEX_PREFIX}all`;
  const digest = createHash('sha256').update(JSON.stringify([...hosted].sort())).digest('hex');
  return `${IN_FLIGHT_INDEX_PREFIX}${digest.slice(0, 32)}`;
}

/** The index stream of one partition of a partition table (partitions.ts). */
export function partitionIndexStream(tableKey: string, partition: number): string {
  const digest = createHash('sha256').update(tableKey).digest('hex');
  return `${IN_FLIGHT_INDEX_PREFIX}${digest.slice(0, 32)}-${partition}`;
}

/** Checkpoints kept readable per index stream; only the last is read. */
export const INDEX_MAX_COUNT = 8;

/** The last checkpoint in the stream; undefined when there is none or it is unreadable (then start from the beginning). */
export async function readInFlightCheckpoint(store: EventStore, stream: string): Promise<InFlightCheckpoint | undefined> {
  try {
    for await (const event of store.readStream(stream, { direction: 'backwards', fromRevision: 'end', maxCount: 1 })) {
      return parseCheckpoint(event.data);
    }
  } catch (error) {
    if (!(error instanceof StreamNotFoundError)) throw error;
  }
  return undefined;
}

export async function writeInFlightCheckpoint(store: EventStore, stream: string, checkpoint: InFlightCheckpoint): Promise<void> {
  const data = { commit: checkpoint.position.commit.toString(), prepare: checkpoint.position.prepare.toString(), workflows: [...checkpoint.workflows] };
  const result = await store.append(stream, [{ id: randomUUID(), type: IN_FLIGHT_CHECKPOINT, data }], { expectedRevision: 'any' });
  // The first checkpoint of a stream bounds it: only the last one is ever read.
  if (result.nextExpectedRevision === 0n) await store.setStreamMetadata(stream, { maxCount: INDEX_MAX_COUNT }).catch(() => undefined);
}

/** The earlier of two positions. */
export function earlier(a: Position, b: Position): Position {
  return a.commit < b.commit || (a.commit === b.commit && a.prepare < b.prepare) ? a : b;
}

function parseCheckpoint(data: unknown): InFlightCheckpoint | undefined {
  const { commit, prepare, workflows } = (data ?? {}) as { commit?: unknown; prepare?: unknown; workflows?: unknown };
  if (typeof commit !== 'string' || typeof prepare !== 'string' || !/^\d+$/.test(commit) || !/^\d+$/.test(prepare)) return undefined;
  if (!Array.isArray(workflows) || !workflows.every((id) => typeof id === 'string')) return undefined;
  return { position: { commit: BigInt(commit), prepare: BigInt(prepare) }, workflows: workflows as string[] };
}

/**
 * Where a runtime owning several partitions starts from: the earliest position of their last
 * checkpoints and every workflow they name. When one of them has none (a partition never indexed, a
 * store written before ownership), the hosted set's old stream fills in, else undefined: start from
 * the beginning of the workflow category.
 */
export async function readPartitionCheckpoints(store: EventStore, streams: readonly string[], fallbackStream: string): Promise<InFlightCheckpoint | undefined> {
  const found = await Promise.all(streams.map((stream) => readInFlightCheckpoint(store, stream)));
  const complete = found.filter((checkpoint) => checkpoint !== undefined);
  if (complete.length < found.length) {
    const fallback = await readInFlightCheckpoint(store, fallbackStream);
    if (!fallback) return undefined;
    complete.push(fallback);
  }
  if (complete.length === 0) return undefined;
  let position = complete[0]!.position;
  const workflows = new Set<string>();
  for (const checkpoint of complete) {
    position = earlier(position, checkpoint.position);
    for (const workflowId of checkpoint.workflows) workflows.add(workflowId);
  }
  return { position, workflows: [...workflows] };
}
