/**
 * The event store port: the one interface the engine, the projections and the embedded
 * EventStoreDB-compatible server talk to. Its semantics are EventStoreDB's, so that the adapter over
 * @eventstore/db-client is thin and every backend (sqlite:, memory:, esdb://) behaves the same.
 * The contract suite in test/store/contract states these semantics once and runs against every
 * backend.
 *
 * Numbers that EventStoreDB keeps as 64-bit (stream revisions, log positions) are `bigint` here, as in
 * the official client, so nothing is lost on the way through.
 */

import type { PersistentSubscriptions } from './persistent/port.js';

export type * from './persistent/port.js';
export { ALL_SOURCE } from './persistent/port.js';

/** JSON-compatible value: what event data and metadata may hold. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

/**
 * The revision an append expects the stream to be at:
 * - `'any'`: no check;
 * - `'no_stream'`: the stream must not exist (a soft-deleted stream counts as not existing);
 * - `'stream_exists'`: the stream must exist (and not be deleted);
 * - a bigint: the revision of the stream's last event must be exactly this.
 */
export type ExpectedRevision = 'any' | 'no_stream' | 'stream_exists' | bigint;

/**
 * A position in the global log (`$all`). Positions strictly increase with every event appended.
 * `commit` and `prepare` mirror EventStoreDB's transaction-file positions; backends with a single
 * sequence use the same number for both. Compare with {@link comparePositions}.
 */
export interface Position {
  readonly commit: bigint;
  readonly prepare: bigint;
}

/**
 * Event data: JSON (a JSON event, EventStoreDB's `application/json`), or bytes, stored and returned
 * byte for byte (a binary event: any other content type, as EventStoreDB's `application/octet-stream`).
 */
export type EventBody = Json | Uint8Array;

/** Event metadata: a JSON object, or bytes kept as they are (EventStoreDB's custom metadata is bytes). */
export type EventMetadata = JsonObject | Uint8Array;

/** An event to append. `id` is a UUID chosen by the writer: appending the same id again is a no-op. */
export interface EventData {
  readonly id: string;
  readonly type: string;
  readonly data: EventBody;
  readonly metadata?: EventMetadata;
}

/** An event as stored. */
export interface RecordedEvent {
  readonly id: string;
  readonly type: string;
  /** JSON for a JSON event, a `Uint8Array` for a binary one (a link event `$>` is binary). */
  readonly data: EventBody;
  /** `{}` when the writer gave none; a `Uint8Array` when it gave bytes that are not a JSON object's text. */
  readonly metadata: EventMetadata;
  readonly stream: string;
  /** 0-based revision within its stream. Soft delete does not reset numbering. */
  readonly revision: bigint;
  readonly position: Position;
  readonly created: Date;
  /**
   * Set when links were resolved (`resolveLinkTos`) and this event was reached through a link event
   * (`$>`, src/store/links.ts): the link itself, whose stream, revision and position are where it was read.
   */
  readonly link?: RecordedEvent;
}

export interface AppendOptions {
  /** Default `'any'`. */
  readonly expectedRevision?: ExpectedRevision;
  /**
   * Who appends (printable ASCII, at most {@link MAX_WRITER_LENGTH} characters): a subscription with
   * the same `excludeWriter` may be spared these events. Only the esdb adapter sends it (our server
   * honours it; EventStoreDB ignores it); the other backends ignore it.
   */
  readonly writer?: string;
}

/** The longest `writer` / `excludeWriter` (they travel as a gRPC header). */
export const MAX_WRITER_LENGTH = 128;

export interface AppendResult {
  /** Revision of the last event now in the stream: pass it as `expectedRevision` to append next. */
  readonly nextExpectedRevision: bigint;
  /** Position of the last event written (or of the original write, for an idempotent re-append). */
  readonly position: Position;
}

export type Direction = 'forwards' | 'backwards';

export interface ReadStreamOptions {
  /** Default `'forwards'`. */
  readonly direction?: Direction;
  /** Inclusive. Default `'start'` forwards, `'end'` backwards. */
  readonly fromRevision?: 'start' | 'end' | bigint;
  /** Maximum events to return. Default: unlimited (the stream is paged, never loaded whole). */
  readonly maxCount?: number | bigint;
  /** Deliver the events that link events (`$>`) point at, each with its `link`. Default false. */
  readonly resolveLinkTos?: boolean;
}

/** Server-side filter for `$all`. Prefix lists are OR-ed; a stream filter and an event-type filter are exclusive, as in EventStoreDB. */
export type AllFilter =
  | { readonly streamNamePrefix: readonly string[] }
  | { readonly streamNameRegex: string }
  | { readonly eventTypePrefix: readonly string[] }
  | { readonly eventTypeRegex: string };

export interface ReadAllOptions {
  /** Default `'forwards'`. */
  readonly direction?: Direction;
  /**
   * Exclusive: forwards returns events strictly after this position, backwards strictly before.
   * Default `'start'` forwards, `'end'` backwards.
   */
  readonly fromPosition?: 'start' | 'end' | Position;
  readonly maxCount?: number | bigint;
  readonly filter?: AllFilter;
  /** Deliver the events that link events (`$>`) point at, each with its `link`. Default false. */
  readonly resolveLinkTos?: boolean;
}

export interface SubscribeToStreamOptions {
  /** Exclusive: `'start'` delivers from revision 0; a revision delivers events after it; `'end'` only new events. */
  readonly fromRevision?: 'start' | 'end' | bigint;
  /** Deliver the events that link events (`$>`) point at, each with its `link`. Default false. */
  readonly resolveLinkTos?: boolean;
}

export interface SubscribeToAllOptions {
  /** Exclusive: events strictly after this position. Default `'start'`. */
  readonly fromPosition?: 'start' | 'end' | Position;
  readonly filter?: AllFilter;
  /**
   * Report a `checkpoint` after every this many events *considered* by the filter (matching or not),
   * so a subscriber whose filter rarely matches can still save its position. Default 32 (EventStoreDB's
   * checkpoint interval multiplier 1 x max search window 32). Only meaningful with a filter.
   */
  readonly checkpointInterval?: number;
  /**
   * Events the subscriber already has (typically its own appends): asked, for each event the filter
   * lets through, before the event is read in full; `true` means it is not delivered. A way to save
   * work, not a filter: answer `true` only for an event already known (`false` is always safe), and
   * expect to be asked at any time before delivery (backends that receive whole events anyway ask
   * after reading them). Passed-over events still count as considered for checkpoints.
   */
  readonly skip?: (stream: string, revision: bigint) => boolean;
  /**
   * Events appended with this `writer` (AppendOptions) may be left out, by the server, before they
   * are read or sent: for a subscriber that learns of its own appends from their answers (the saga
   * runtime). A way to save work, not a filter: any of them may still be delivered (the adapter's
   * fallback paths, a server that forgot or never knew, EventStoreDB, the other backends), and
   * left-out events still count as considered for checkpoints.
   */
  readonly excludeWriter?: string;
  /** Deliver the events that link events (`$>`) point at, each with its `link`. Default false. */
  readonly resolveLinkTos?: boolean;
}

/**
 * What a catch-up subscription yields, in order: historical events, one `caughtUp`, then live
 * events (and `fellBehind` + `caughtUp` again if a slow consumer had to be caught up from the log).
 * No event is delivered twice and none is skipped across the switch.
 */
export type SubscriptionMessage =
  | { readonly kind: 'event'; readonly event: RecordedEvent }
  | { readonly kind: 'checkpoint'; readonly position: Position }
  | { readonly kind: 'caughtUp' }
  | { readonly kind: 'fellBehind' };

export interface Subscription extends AsyncIterable<SubscriptionMessage> {
  /** Stop the subscription; a pending iteration ends (returns `done`). Idempotent. */
  unsubscribe(): Promise<void>;
}

export interface DeleteOptions {
  readonly expectedRevision?: ExpectedRevision;
}

export interface DeleteResult {
  readonly position: Position;
}

/** Stream metadata understood by the store. Other keys are kept as they are (custom metadata). */
export interface StreamMetadata {
  readonly maxCount?: number;
  /** Seconds. */
  readonly maxAge?: number;
  readonly truncateBefore?: bigint;
  readonly custom?: JsonObject;
}

export interface EventStore {
  /**
   * Append events atomically. Throws `WrongExpectedVersionError` (with expected and actual),
   * `StreamDeletedError` for a tombstoned stream, `InvalidArgumentError` for bad input (nothing is
   * written). Appending the same event ids again at the same expected revision returns the original
   * result and writes nothing.
   */
  append(stream: string, events: readonly EventData[], options?: AppendOptions): Promise<AppendResult>;

  /** Read one stream. Iteration throws `StreamNotFoundError` if the stream does not exist, `StreamDeletedError` if tombstoned. */
  readStream(stream: string, options?: ReadStreamOptions): AsyncIterable<RecordedEvent>;

  /** Read the global log. */
  readAll(options?: ReadAllOptions): AsyncIterable<RecordedEvent>;

  /** Catch-up subscription to one stream. */
  subscribeToStream(stream: string, options?: SubscribeToStreamOptions): Subscription;

  /** Catch-up subscription to the global log, optionally filtered, with checkpoints. */
  subscribeToAll(options?: SubscribeToAllOptions): Subscription;

  /** Soft delete: the stream reads as not found; a later append continues its numbering. */
  deleteStream(stream: string, options?: DeleteOptions): Promise<DeleteResult>;

  /** Tombstone: the stream is gone for good; reads and appends throw `StreamDeletedError`. */
  tombstoneStream(stream: string, options?: DeleteOptions): Promise<DeleteResult>;

  setStreamMetadata(stream: string, metadata: StreamMetadata, options?: AppendOptions): Promise<AppendResult>;
  getStreamMetadata(stream: string): Promise<StreamMetadata | undefined>;

  /** Persistent subscriptions (consumer groups kept by the store): src/store/persistent/port.ts. */
  readonly persistentSubscriptions: PersistentSubscriptions;

  /** Release connections and file handles. Pending subscriptions end. */
  close(): Promise<void>;
}

/**
 * An event's metadata as a JSON object, `{}` when it is bytes: for readers of the engine's own
 * streams (always JSON metadata) that only look keys up.
 */
export function metadataObject(metadata: EventMetadata): JsonObject {
  return metadata instanceof Uint8Array ? {} : metadata;
}

/** Data as JSON for display and JSON output: a binary event's bytes become their base64 text. */
export function jsonView(data: EventBody): Json {
  return data instanceof Uint8Array ? Buffer.from(data).toString('base64') : data;
}

export const START_POSITION: Position = Object.freeze({ commit: 0n, prepare: 0n });

export function comparePositions(a: Position, b: Position): number {
  if (a.commit !== b.commit) return a.commit < b.commit ? -1 : 1;
  if (a.prepare !== b.prepare) return a.prepare < b.prepare ? -1 : 1;
  return 0;
}
