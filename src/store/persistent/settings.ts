/**
 * Persistent subscription settings: the defaults (those of EventStoreDB and its clients), the checks a
 * group's settings must pass (EventStoreDB refuses the same: a read batch not smaller than the history
 * buffer, negative counts, an unknown strategy; not min > max checkpoint count, which it accepts), and their JSON form in the config stream.
 */
import { compileAllFilter } from '../validation.js';
import type { Json, JsonObject, Position } from '../port.js';
import { PersistentSubscriptionFailedError } from './errors.js';
import { ALL_SOURCE, type ConsumerStrategy, type PersistentSubscriptionSettings } from './port.js';

export const DEFAULT_SETTINGS: PersistentSubscriptionSettings = Object.freeze({
  startFrom: 'end',
  resolveLinkTos: false,
  extraStatistics: false,
  messageTimeoutMs: 30_000,
  maxRetryCount: 10,
  checkpointAfterMs: 2_000,
  minCheckpointCount: 10,
  maxCheckpointCount: 1_000,
  maxSubscriberCount: 0,
  liveBufferSize: 500,
  readBatchSize: 20,
  historyBufferSize: 500,
  consumerStrategy: 'RoundRobin',
});

const STRATEGIES: readonly ConsumerStrategy[] = ['RoundRobin', 'DispatchToSingle', 'Pinned'];
const COUNTS = [
  'messageTimeoutMs', 'maxRetryCount', 'checkpointAfterMs', 'minCheckpointCount', 'maxCheckpointCount',
  'maxSubscriberCount', 'liveBufferSize', 'readBatchSize', 'historyBufferSize',
] as const;

/** The given settings over the defaults, checked; bad ones throw `PersistentSubscriptionFailedError`. */
export function resolveSettings(source: string, group: string, given: Partial<PersistentSubscriptionSettings> = {}): PersistentSubscriptionSettings {
  const settings: PersistentSubscriptionSettings = { ...DEFAULT_SETTINGS, ...stripUndefined(given) };
  const fail = (reason: string) => new PersistentSubscriptionFailedError(source, group, reason);
  if (group.length === 0) throw fail('the group name is empty');
  for (const key of COUNTS) {
    const value = settings[key];
    if (!Number.isSafeInteger(value) || value < 0) throw fail(`${key} must be a non-negative integer, got ${String(value)}`);
  }
  if (settings.readBatchSize < 1) throw fail('readBatchSize must be at least 1');
  if (settings.readBatchSize >= settings.historyBufferSize) throw fail('readBatchSize must be smaller than historyBufferSize');
  if (!STRATEGIES.includes(settings.consumerStrategy)) throw fail(`unknown consumer strategy '${String(settings.consumerStrategy)}'`);
  const { startFrom } = settings;
  if (source === ALL_SOURCE) {
    if (typeof startFrom === 'bigint') throw fail('a group on $all starts from a position, not a revision');
    if (settings.filter) {
      try {
        compileAllFilter(settings.filter);
      } catch (error) {
        throw fail(error instanceof Error ? error.message : String(error));
      }
    }
  } else {
    if (typeof startFrom === 'object') throw fail('a group on a stream starts from a revision, not a position');
    if (typeof startFrom === 'bigint' && startFrom < 0n) throw fail('startFrom must not be negative');
    if (settings.filter) throw fail('only a group on $all takes a filter');
  }
  return settings;
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, entry]) => entry !== undefined)) as Partial<T>;
}

export function startFromToJson(startFrom: PersistentSubscriptionSettings['startFrom']): Json {
  if (typeof startFrom === 'string') return startFrom;
  if (typeof startFrom === 'bigint') return startFrom.toString();
  return { commit: startFrom.commit.toString(), prepare: startFrom.prepare.toString() };
}

function startFromFromJson(value: Json | undefined): PersistentSubscriptionSettings['startFrom'] {
  if (value === 'start' || value === 'end') return value;
  if (typeof value === 'string') return BigInt(value);
  const position = value as { commit: string; prepare: string };
  return { commit: BigInt(position.commit), prepare: BigInt(position.prepare) } satisfies Position;
}

export function settingsToJson(settings: PersistentSubscriptionSettings): JsonObject {
  return { ...(settings as unknown as JsonObject), startFrom: startFromToJson(settings.startFrom) };
}

export function settingsFromJson(json: JsonObject): PersistentSubscriptionSettings {
  return { ...(json as unknown as PersistentSubscriptionSettings), startFrom: startFromFromJson(json['startFrom']) };
}
