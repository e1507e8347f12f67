/**
 * The in-flight index per leased partition (docs/scaling.md, "Ownership"): a runtime writes one
 * checkpoint per partition it holds, naming that partition's unfinished workflows; a runtime that
 * starts reads the checkpoints of the partitions it holds, and one that takes a partition over reads
 * that partition's checkpoint plus the tail after it. The checkpoints themselves (one stream each, a
 * snapshot per event) are in-flight-index.ts's.
 */
import type { EventStore } from '../../store/port.js';
import { WORKFLOW_STREAM_PREFIX, workflowIdOf } from '../stream/index.js';
import { partitionIndexStream, readPartitionCheckpoints, writeInFlightCheckpoint, type InFlightCheckpoint } from './in-flight-index.js';

/** The partitions a runtime holds, by table key (PartitionLeases.owned()). */
export type HeldPartitions = ReadonlyMap<string, readonly number[]>;

export interface PartitionIndexOptions {
  readonly store: EventStore;
  /** The per-hosted-set index of stores written before partitions: read when a partition has no checkpoint yet. */
  readonly legacyStream: string;
  /** The partition of a workflow in a table (undefined: the table is not held). */
  readonly partitionOf: (tableKey: string, workflowId: string) => number | undefined;
}

export class PartitionIndex {
  readonly #store: EventStore;
  readonly #legacyStream: string;
  readonly #partitionOf: PartitionIndexOptions['partitionOf'];
  /** `tableKey/partition` being taken over: not written until every workflow found is queued. */
  readonly #takingOver = new Set<string>();
  /** Per index stream, what was written last (a checkpoint is written only when it changed). */
  readonly #written = new Map<string, string>();
  #decoded = 0;

  constructor(options: PartitionIndexOptions) {
    this.#store = options.store;
    this.#legacyStream = options.legacyStream;
    this.#partitionOf = options.partitionOf;
  }

  /** Workflow events decoded while taking partitions over (for the runtime's decoded share). */
  get decoded(): number {
    return this.#decoded;
  }

  /** Where to start: the checkpoints of the partitions held now (none held: the end of the log). */
  async read(held: HeldPartitions): Promise<InFlightCheckpoint | undefined> {
    const streams = [...held].flatMap(([tableKey, partitions]) => partitions.map((partition) => partitionIndexStream(tableKey, partition)));
    if (streams.length === 0) {
      for await (const last of this.#store.readAll({ direction: 'backwards', maxCount: 1, filter: { streamNamePrefix: [WORKFLOW_STREAM_PREFIX] } })) return { position: last.position, workflows: [] };
      return undefined;
    }
    return readPartitionCheckpoints(this.#store, streams, this.#legacyStream);
  }

  /**
   * One checkpoint per partition held (and not being taken over), each naming that partition's
   * workflows. `tablesOf`: the tables a workflow of the checkpoint belongs to.
   */
  async write(checkpoint: InFlightCheckpoint, held: HeldPartitions, tablesOf: (workflowId: string) => Iterable<string>): Promise<void> {
    const perStream = new Map<string, string[]>();
    for (const [tableKey, partitions] of held) {
      for (const partition of partitions) if (!this.#takingOver.has(`${tableKey}/${partition}`)) perStream.set(partitionIndexStream(tableKey, partition), []);
    }
    for (const workflowId of checkpoint.workflows) {
      for (const tableKey of tablesOf(workflowId)) perStream.get(partitionIndexStream(tableKey, this.#partitionOf(tableKey, workflowId) ?? -1))?.push(workflowId);
    }
    for (const [stream, workflows] of perStream) {
      const fingerprint = `${checkpoint.position.commit}/${workflows.join(',')}`;
      if (this.#written.get(stream) === fingerprint) continue;
      await writeInFlightCheckpoint(this.#store, stream, { position: checkpoint.position, workflows });
      this.#written.set(stream, fingerprint);
    }
  }

  /**
   * The in-flight workflows of partitions just gained: those their last checkpoints name plus those
   * met in the tail after them (every other partition's events passed over unread). The partitions'
   * own checkpoints are not written until `doneTakingOver`: the caller queues what was found first.
   */
  async takeOver(tableKey: string, partitions: readonly number[], inPartition: (workflowId: string) => boolean, stopped: () => boolean): Promise<{ readonly workflows: ReadonlySet<string>; readonly fromIndex: boolean }> {
    for (const partition of partitions) this.#takingOver.add(`${tableKey}/${partition}`);
    const checkpoint = await readPartitionCheckpoints(this.#store, partitions.map((partition) => partitionIndexStream(tableKey, partition)), this.#legacyStream);
    const found = new Set((checkpoint?.workflows ?? []).filter(inPartition));
    const tail = this.#store.subscribeToAll({
      fromPosition: checkpoint?.position ?? 'start',
      filter: { streamNamePrefix: [WORKFLOW_STREAM_PREFIX] },
      skip: (stream) => {
        const workflowId = workflowIdOf(stream);
        return workflowId === undefined || found.has(workflowId) || !inPartition(workflowId);
      },
    });
    try {
      for await (const message of tail) {
        if (message.kind === 'caughtUp' || stopped()) break;
        if (message.kind !== 'event') continue;
        this.#decoded++;
        const workflowId = workflowIdOf(message.event.stream);
        if (workflowId !== undefined && inPartition(workflowId)) found.add(workflowId);
      }
    } finally {
      await tail.unsubscribe();
    }
    return { workflows: found, fromIndex: checkpoint !== undefined };
  }

  /** The workflows found by `takeOver` are queued (or the takeover failed): the partitions' checkpoints may be written again. */
  doneTakingOver(tableKey: string, partitions: readonly number[]): void {
    for (const partition of partitions) this.#takingOver.delete(`${tableKey}/${partition}`);
  }
}
