/**
 * Where persistent subscriptions keep their state: in the store itself, in EventStoreDB's streams.
 * - `$persistentSubscriptionConfig`: every change appends the whole list of groups (read: the last
 *   event), at the expected revision it was read at, so two processes never both create a group;
 * - `$persistentsubscription-<source>::<group>-checkpoint`: the group's position, one event per checkpoint;
 * - `$persistentsubscription-<source>::<group>-parked`: one event per parked event, naming it.
 */
import { randomUUID } from 'node:crypto';
import { StreamNotFoundError, WrongExpectedVersionError } from '../errors.js';
import type { EventStore, JsonObject, Position, RecordedEvent } from '../port.js';
import { ALL_SOURCE, type PersistentSubscriptionSettings } from './port.js';
import { settingsFromJson, settingsToJson } from './settings.js';

export const CONFIG_STREAM = '$persistentSubscriptionConfig';
const CONFIG_EVENT = '$PersistentConfig';
const CHECKPOINT_EVENT = '$SubscriptionCheckpoint';
const PARKED_EVENT = '$ParkedMessage';

/** A group's place in its source: a revision (stream) or a position (`$all`). */
export type Cursor = bigint | Position;

export interface GroupConfig {
  readonly source: string;
  readonly group: string;
  readonly settings: PersistentSubscriptionSettings;
  /**
   * Where a group without a checkpoint starts (exclusive), fixed when it was created or updated:
   * EventStoreDB starts a group as soon as it is made, so `'end'` means the end at that moment.
   */
  readonly startAfter?: Cursor | 'start';
}

export interface ConfigSnapshot {
  readonly groups: readonly GroupConfig[];
  readonly revision: bigint | 'no_stream';
}

export const checkpointStream = (source: string, group: string) => `$persistentsubscription-${source}::${group}-checkpoint`;
export const parkedStream = (source: string, group: string) => `$persistentsubscription-${source}::${group}-parked`;

async function lastEvent(store: EventStore, stream: string): Promise<RecordedEvent | undefined> {
  try {
    for await (const event of store.readStream(stream, { direction: 'backwards', maxCount: 1 })) return event;
  } catch (error) {
    if (error instanceof StreamNotFoundError) return undefined;
    throw error;
  }
  return undefined;
}

export async function readConfig(store: EventStore): Promise<ConfigSnapshot> {
  const event = await lastEvent(store, CONFIG_STREAM);
  if (!event) return { groups: [], revision: 'no_stream' };
  const entries = (event.data as { groups: { source: string; group: string; settings: JsonObject; startAfter?: string }[] }).groups;
  return {
    groups: entries.map((entry) => ({
      source: entry.source,
      group: entry.group,
      settings: settingsFromJson(entry.settings),
      ...(entry.startAfter === undefined ? {} : { startAfter: entry.startAfter === 'start' ? 'start' : cursorFromJson(entry.source, entry.startAfter) }),
    })),
    revision: event.revision,
  };
}

/**
 * Apply `change` to the current list of groups and store the result; on a concurrent change (another
 * process) read again and retry. `change` may throw to refuse (a group that exists, or does not).
 */
export async function changeConfig(store: EventStore, change: (groups: readonly GroupConfig[]) => GroupConfig[]): Promise<void> {
  for (;;) {
    const snapshot = await readConfig(store);
    const groups = change(snapshot.groups);
    const data = {
      groups: groups.map((entry) => ({
        source: entry.source,
        group: entry.group,
        settings: settingsToJson(entry.settings),
        ...(entry.startAfter === undefined ? {} : { startAfter: entry.startAfter === 'start' ? 'start' : cursorToJson(entry.startAfter) }),
      })),
    };
    try {
      await store.append(CONFIG_STREAM, [{ id: randomUUID(), type: CONFIG_EVENT, data }], { expectedRevision: snapshot.revision });
      return;
    } catch (error) {
      if (!(error instanceof WrongExpectedVersionError)) throw error;
    }
  }
}

function cursorToJson(cursor: Cursor): string {
  return typeof cursor === 'bigint' ? cursor.toString() : `C:${cursor.commit}/P:${cursor.prepare}`;
}

function cursorFromJson(source: string, text: string): Cursor {
  if (source !== ALL_SOURCE) return BigInt(text);
  const match = /^C:(\d+)\/P:(\d+)$/.exec(text);
  if (!match) throw new Error(`Malformed checkpoint '${text}' of a group on $all`);
  return { commit: BigInt(match[1]!), prepare: BigInt(match[2]!) };
}

/** The last event of a group's source now: a group starting at `'end'` starts after it. */
export async function currentEnd(store: EventStore, source: string): Promise<Cursor | 'start'> {
  if (source === ALL_SOURCE) {
    for await (const event of store.readAll({ direction: 'backwards', maxCount: 1 })) return event.position;
    return 'start';
  }
  const event = await lastEvent(store, source);
  return event ? event.revision : 'start';
}

export async function readCheckpoint(store: EventStore, source: string, group: string): Promise<Cursor | undefined> {
  const event = await lastEvent(store, checkpointStream(source, group));
  return event ? cursorFromJson(source, event.data as string) : undefined;
}

export async function writeCheckpoint(store: EventStore, source: string, group: string, cursor: Cursor): Promise<void> {
  await store.append(checkpointStream(source, group), [{ id: randomUUID(), type: CHECKPOINT_EVENT, data: cursorToJson(cursor) }]);
}

export async function park(store: EventStore, source: string, group: string, event: RecordedEvent, reason: string): Promise<void> {
  await store.append(parkedStream(source, group), [{
    id: randomUUID(),
    type: PARKED_EVENT,
    data: { stream: event.stream, revision: event.revision.toString(), eventId: event.id, reason },
  }]);
}

export interface ParkedEntry {
  /** Revision of the entry in the parked stream. */
  readonly revision: bigint;
  readonly event: RecordedEvent;
}

/** The parked events still to replay (those before the stream's truncation were replayed already), oldest first. */
export async function* readParked(store: EventStore, source: string, group: string): AsyncGenerator<ParkedEntry> {
  let entries: AsyncIterable<RecordedEvent>;
  try {
    entries = store.readStream(parkedStream(source, group));
    for await (const entry of entries) {
      const pointer = entry.data as { stream: string; revision: string };
      const original = await eventAt(store, pointer.stream, BigInt(pointer.revision));
      if (original) yield { revision: entry.revision, event: original };
    }
  } catch (error) {
    if (!(error instanceof StreamNotFoundError)) throw error;
  }
}

async function eventAt(store: EventStore, stream: string, revision: bigint): Promise<RecordedEvent | undefined> {
  try {
    for await (const event of store.readStream(stream, { fromRevision: revision, maxCount: 1 })) {
      return event.revision === revision ? event : undefined;
    }
  } catch (error) {
    if (error instanceof StreamNotFoundError) return undefined;
    throw error;
  }
  return undefined;
}

/** Mark parked entries before `revision` as replayed: they no longer read (EventStoreDB truncates the same way). */
export async function markParkedReplayed(store: EventStore, source: string, group: string, beforeRevision: bigint): Promise<void> {
  const stream = parkedStream(source, group);
  const current = await store.getStreamMetadata(stream);
  await store.setStreamMetadata(stream, { ...current, truncateBefore: beforeRevision });
}

export async function countParked(store: EventStore, source: string, group: string): Promise<bigint> {
  const stream = parkedStream(source, group);
  const last = await lastEvent(store, stream);
  if (!last) return 0n;
  const metadata = await store.getStreamMetadata(stream);
  return last.revision + 1n - (metadata?.truncateBefore ?? 0n);
}

/** Forget a deleted group's checkpoint and parked events. */
export async function deleteGroupStreams(store: EventStore, source: string, group: string): Promise<void> {
  for (const stream of [checkpointStream(source, group), parkedStream(source, group)]) {
    try {
      await store.deleteStream(stream);
    } catch (error) {
      if (!(error instanceof StreamNotFoundError)) throw error;
    }
  }
}
