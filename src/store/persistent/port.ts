/**
 * Persistent subscriptions on the store port: server-side consumer groups with EventStoreDB's
 * semantics. The store keeps the group's position (a checkpoint) and hands each event to one of the
 * group's consumers, which acks it or nacks it (park, retry, skip, stop); unacked events are sent again
 * after a timeout or when their consumer leaves, and events retried too often are parked in
 * `$persistentsubscription-<source>::<group>-parked`, from where they can be replayed.
 *
 * The source is a stream name, or `'$all'` for the global log (optionally filtered).
 */
import type { AllFilter, Position, RecordedEvent } from '../port.js';

/** The source name of a group on the global log, as EventStoreDB spells it. */
export const ALL_SOURCE = '$all';

/**
 * - `RoundRobin`: each event to the next consumer with room in its buffer;
 * - `DispatchToSingle`: to the first consumer (in order of joining) with room, the next one only when it is full;
 * - `Pinned`: events of one stream always to the same consumer while the set of consumers is unchanged.
 */
export type ConsumerStrategy = 'RoundRobin' | 'DispatchToSingle' | 'Pinned';

export interface PersistentSubscriptionSettings {
  /** Where a group without a checkpoint starts, inclusive: a revision for a stream, a position for `$all`. Default `'end'`. */
  readonly startFrom: 'start' | 'end' | bigint | Position;
  /**
   * Deliver the events that link events (`$>`) point at, each with its `link`, as reads do. The link
   * is then the message: its id is what is acked, its place is what is checkpointed, it is what is parked.
   */
  readonly resolveLinkTos: boolean;
  readonly extraStatistics: boolean;
  /** An event unacked this long is sent again (or parked). 0: never. Default 30 000. */
  readonly messageTimeoutMs: number;
  /** Retries before an event is parked. Default 10. */
  readonly maxRetryCount: number;
  /** A checkpoint is written at most this often once `minCheckpointCount` events are done. Default 2 000. */
  readonly checkpointAfterMs: number;
  /** Default 10. */
  readonly minCheckpointCount: number;
  /** Done events that force a checkpoint at once. Default 1 000. */
  readonly maxCheckpointCount: number;
  /** 0: unbounded (default). */
  readonly maxSubscriberCount: number;
  /** Events kept ahead of the consumers. Default 500. */
  readonly liveBufferSize: number;
  /** Default 20. */
  readonly readBatchSize: number;
  /** Default 500. */
  readonly historyBufferSize: number;
  /** Default `'RoundRobin'`. */
  readonly consumerStrategy: ConsumerStrategy;
  /** `$all` only, fixed at creation (EventStoreDB cannot update it either). */
  readonly filter?: AllFilter;
}

export interface PersistentConnectionInfo {
  readonly name: string;
  /** Who connected: the user and the peer address, when the transport knows them. */
  readonly username: string;
  readonly from: string;
  /** With `extraStatistics`: ack latencies in ms over the last acks ("Mean", "Median", "Quintile 1".."Quintile 5", "99%", "Highest", …). */
  readonly measurements?: Readonly<Record<string, number>>;
  readonly inFlight: number;
  readonly availableSlots: number;
  readonly totalItems: bigint;
}

export interface PersistentSubscriptionInfo {
  readonly source: string;
  readonly group: string;
  /** `'Live'` while the group runs in this process, `'NotReady'` when it is not loaded. */
  readonly status: string;
  readonly settings: PersistentSubscriptionSettings;
  readonly connections: readonly PersistentConnectionInfo[];
  /** Revision (stream) or position (`$all`) of the last checkpoint written. */
  readonly lastCheckpoint?: bigint | Position;
  /** Revision or position of the last event read from the source. */
  readonly lastKnown?: bigint | Position;
  readonly totalItems: bigint;
  readonly inFlight: number;
  readonly retryBufferCount: number;
  readonly bufferCount: number;
  readonly parkedCount: bigint;
}

export type NackAction = 'park' | 'retry' | 'skip' | 'stop';

export interface PersistentEvent {
  readonly event: RecordedEvent;
  /** How many times this event was sent to the group before. */
  readonly retryCount: number;
}

export interface ConnectOptions {
  /** Events this consumer may hold unacked. Default 10. */
  readonly bufferSize?: number;
  /** Shown in the group's info. */
  readonly name?: string;
  readonly username?: string;
  readonly from?: string;
}

/**
 * A consumer's connection to a group: its events, in the order the group sends them. Iteration throws
 * `PersistentSubscriptionNotFoundError`, `MaximumSubscribersReachedError`, or
 * `PersistentSubscriptionDroppedError` when the group is deleted, updated or restarted.
 */
export interface PersistentSubscription extends AsyncIterable<PersistentEvent> {
  /**
   * Resolves once the consumer has joined the group (EventStoreDB's confirmation); rejects with what
   * iteration would throw. Iterating joins too: this only lets a caller wait for it.
   */
  joined(): Promise<void>;
  /** Ids as delivered: a resolved event's is its link's (`(event.link ?? event).id`), as EventStoreDB's clients send. */
  ack(...eventIds: string[]): Promise<void>;
  nack(action: NackAction, reason: string, ...eventIds: string[]): Promise<void>;
  /** Leave the group: events this consumer did not ack go to the others. Idempotent. */
  unsubscribe(): Promise<void>;
}

export interface PersistentSubscriptions {
  /** Throws `PersistentSubscriptionExistsError`, or `PersistentSubscriptionFailedError` for bad settings. */
  create(source: string, group: string, settings?: Partial<PersistentSubscriptionSettings>): Promise<void>;
  /** Replaces the settings (over the defaults; a `$all` filter is kept); connected consumers are dropped. */
  update(source: string, group: string, settings?: Partial<PersistentSubscriptionSettings>): Promise<void>;
  /** Drops connected consumers; the checkpoint and parked streams are deleted. */
  delete(source: string, group: string): Promise<void>;
  getInfo(source: string, group: string): Promise<PersistentSubscriptionInfo>;
  /** All groups, or those of one source. */
  list(source?: string): Promise<PersistentSubscriptionInfo[]>;
  /** Send the parked events (the first `stopAt`, or all) to the group again. */
  replayParked(source: string, group: string, options?: { readonly stopAt?: number }): Promise<void>;
  /** Drop every consumer of every group; groups reload from their checkpoints. */
  restartSubsystem(): Promise<void>;
  connect(source: string, group: string, options?: ConnectOptions): PersistentSubscription;
}
