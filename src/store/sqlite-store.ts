/**
 * The embedded event store: the port over better-sqlite3. This class only validates arguments and
 * wires the parts: writes go through a group-commit writer (sqlite-writer, sqlite-batch-runner, sqlite-writes),
 * reads are paged generators (sqlite-read), subscriptions read the table too (sqlite-subscriptions).
 */
import { resolveLinks, resolvingSubscription } from './links.js';
import type Database from 'better-sqlite3';
import { MaximumAppendSizeExceededError, StoreClosedError, StreamDeletedError } from './errors.js';
import type {
  AppendOptions,
  AppendResult,
  DeleteOptions,
  DeleteResult,
  EventData,
  EventStore,
  ReadAllOptions,
  ReadStreamOptions,
  RecordedEvent,
  StreamMetadata,
  SubscribeToAllOptions,
  SubscribeToStreamOptions,
  Subscription,
} from './port.js';
import { PersistentSubscriptionHub } from './persistent/hub.js';
import { sqliteGroupLeases } from './persistent/sqlite-leases.js';
import { ChangeSignal } from './sqlite-change-signal.js';
import { readAllPages, readStreamPages, type ReadContext } from './sqlite-read.js';
import { prepareStoreStatements, type Statements } from './sqlite-rows.js';
import { openDatabase, type Durability } from './sqlite-schema.js';
import { LocalAppends } from './sqlite-local-appends.js';
import { allSource, StoreSubscription, streamSource, type PageSource } from './sqlite-subscriptions.js';
import { batchRunner } from './sqlite-batch-runner.js';
import { GroupCommitWriter, type CommitStats, type StoreWriter } from './sqlite-writer.js';
import * as writes from './sqlite-writes.js';
import {
  compileAllFilter,
  serializeEvents,
  validateCheckpointInterval,
  validateSkip,
  validateCount,
  validateDirection,
  validateExpectedRevision,
  validatePositionBound,
  validateRevisionBound,
  validateStreamMetadata,
  validateStreamName,
  validateWriter,
} from './validation.js';

export interface SqliteStoreOptions {
  /**
   * `'full'` (default): every commit is fsynced, an acknowledged append survives a power cut.
   * `'normal'`: fsync only at WAL checkpoints; survives a process crash, may lose the last commits
   * on power loss or an OS crash. See docs/store.md for the measured cost.
   */
  readonly durability?: Durability;
  /** How often a live subscription checks for commits by other processes on the same file. Default 50 ms. */
  readonly livePollIntervalMs?: number;
  /** How long a write waits for another process holding the write lock. Default 5000 ms. */
  readonly busyTimeoutMs?: number;
  /** Rows per page for reads and subscriptions. Default 500. */
  readonly pageSize?: number;
  /** Largest append accepted, in characters of event data and metadata JSON (bytes, for ASCII). Default 16 MiB. */
  readonly maxAppendSize?: number;
  /**
   * Where writes run: `'thread'` (default for files) in a worker thread with its own connection, so
   * row inserts and fsyncs do not take the caller's thread; `'inline'` on the caller's thread
   * (always, for `:memory:`).
   */
  readonly writer?: 'thread' | 'inline';
  /**
   * With the writer thread: a batch of fewer writes than this, made while the thread is idle, is
   * written on the calling thread (two thread hops cost more than they save when every append waits
   * for its commit). Bigger batches are written here too when their writes came in a quick burst
   * (nothing for the thread to overlap with). Default 64; 0 sends every batch to the thread.
   */
  readonly smallBatch?: number;
  /**
   * With the writer thread: `'thread'` sends quick bursts of writes to the thread like any batch, so
   * only a batch below `smallBatch` made while the thread is idle is written on the calling thread
   * (for a server: a lone append commits without two thread hops, concurrent ones share the thread's
   * commits). Default `'here'`: a quick burst is written on the calling thread, whatever its size.
   */
  readonly bursts?: 'here' | 'thread';
  /**
   * With the writer thread: from how many µs of the caller's own work per write (a moving average
   * over turns) its batches are worth sending to the thread while it goes on. Default 15 (the saga
   * engine at 500 in flight: 20-35; a client that only appends: 1-10).
   */
  readonly busyProducerMicros?: number;
  /**
   * How long a process's hold on a persistent subscription group lasts without renewal: after it dies,
   * another process takes the group over this much later. Default 10 000 ms (src/store/persistent/leases.ts).
   */
  readonly persistentLeaseMs?: number;
}

export class SqliteEventStore implements EventStore {
  private closed = false;
  private notifyScheduled = false;
  private readonly statements: Statements;
  private readonly writer: StoreWriter;
  private readonly signal: ChangeSignal;
  private readonly subscriptions = new Set<StoreSubscription>();
  private readonly localAppends = new LocalAppends();
  private readonly reads: ReadContext;
  private readonly pageSize: number;
  private readonly maxAppendSize: number;
  /** Consumer groups over this store's own reads and appends (src/store/persistent). */
  readonly persistentSubscriptions: PersistentSubscriptionHub;

  /** Open a store file (created if missing), or an in-memory store for `':memory:'`. */
  static open(path: string, options: SqliteStoreOptions = {}): SqliteEventStore {
    const settings = { durability: options.durability ?? 'full', busyTimeoutMs: options.busyTimeoutMs ?? 5000 };
    const db = openDatabase(path, settings);
    return new SqliteEventStore(db, path, settings, options);
  }

  private constructor(
    private readonly db: Database.Database,
    path: string,
    settings: { readonly durability: Durability; readonly busyTimeoutMs: number },
    options: SqliteStoreOptions,
  ) {
    this.statements = prepareStoreStatements(db);
    this.pageSize = options.pageSize ?? 500;
    this.maxAppendSize = options.maxAppendSize ?? 16 * 1024 * 1024;
    this.signal = new ChangeSignal(() => this.statements.dataVersion.get() as number, options.livePollIntervalMs ?? 50);
    // Live subscribers are woken a turn after a commit, once the appenders have seen their results:
    // a subscriber that skips what it already knows (the saga runtime) then knows its own appends.
    const afterCommit = () => {
      if (this.notifyScheduled) return;
      this.notifyScheduled = true;
      setImmediate(() => {
        this.notifyScheduled = false;
        this.signal.notifyLocalCommit();
      });
    };
    const onAppended = (stream: string, lastRevision: bigint, lastPosition: bigint, count: number) => this.localAppends.record(stream, lastRevision, lastPosition, count);
    const threaded = path !== ':memory:' && (options.writer ?? 'thread') === 'thread';
    // With a writer thread, a batch written here never waits for another process's write lock: it
    // goes to the thread instead, so this event loop is never held for up to busyTimeout.
    const run = batchRunner(db, this.statements, threaded ? { withoutWaiting: { busyTimeoutMs: settings.busyTimeoutMs } } : {});
    this.writer = threaded
      ? new GroupCommitWriter({
          afterCommit,
          onAppended,
          thread: { path, ...settings },
          ...(options.smallBatch === 0 ? {} : { runHere: { below: options.smallBatch ?? 64, run, bursts: options.bursts !== 'thread' } }),
          ...(options.busyProducerMicros === undefined ? {} : { busyProducerMicros: options.busyProducerMicros }),
        })
      : new GroupCommitWriter({ afterCommit, onAppended, runHere: { below: Infinity, run } });
    this.reads = { statements: this.statements, pageSize: this.pageSize, assertOpen: () => this.assertOpen() };
    // A file may be open in several processes: a group then runs in the one holding its lease.
    this.persistentSubscriptions = new PersistentSubscriptionHub(this, path === ':memory:' ? {} : {
      leases: sqliteGroupLeases(db),
      ...(options.persistentLeaseMs === undefined ? {} : { leaseMs: options.persistentLeaseMs }),
    });
  }

  /** Commit counters, for tests and diagnostics (group commit shows as operations > transactions). */
  get stats(): CommitStats {
    return this.writer.stats;
  }

  async append(stream: string, events: readonly EventData[], options: AppendOptions = {}): Promise<AppendResult> {
    this.assertOpen();
    validateStreamName(stream);
    const expected = validateExpectedRevision(options.expectedRevision);
    // Checked as every backend checks it, then not needed: this store's own subscriptions pass over
    // their subscriber's appends with `skip` (sqlite-local-appends.ts), without writer ids.
    validateWriter(options.writer, 'writer');
    const serialized = serializeEvents(events);
    const size = serialized.reduce((total, event) => total + event.data.length + (event.metadata?.length ?? 0), 0);
    if (size > this.maxAppendSize) throw new MaximumAppendSizeExceededError(this.maxAppendSize, size);
    const now = Date.now();
    return this.writer.write({ kind: 'append', stream, events: serialized, expected, now }) as Promise<AppendResult>;
  }

  readStream(stream: string, options: ReadStreamOptions = {}): AsyncIterable<RecordedEvent> {
    this.assertOpen();
    const events = readStreamPages(this.reads, {
      stream: validateStreamName(stream),
      direction: validateDirection(options.direction),
      from: validateRevisionBound(options.fromRevision ?? (options.direction === 'backwards' ? 'end' : 'start')),
      maxCount: validateCount(options.maxCount),
    });
    return options.resolveLinkTos === true ? resolveLinks(this, events) : events;
  }

  readAll(options: ReadAllOptions = {}): AsyncIterable<RecordedEvent> {
    this.assertOpen();
    const events = readAllPages(this.reads, {
      direction: validateDirection(options.direction),
      from: validatePositionBound(options.fromPosition ?? (options.direction === 'backwards' ? 'end' : 'start')),
      maxCount: validateCount(options.maxCount),
      filter: compileAllFilter(options.filter),
    });
    return options.resolveLinkTos === true ? resolveLinks(this, events) : events;
  }

  subscribeToStream(stream: string, options: SubscribeToStreamOptions = {}): Subscription {
    this.assertOpen();
    validateStreamName(stream);
    const from = validateRevisionBound(options.fromRevision);
    const after = from === 'start' ? -1 : from === 'end' ? writes.streamState(this.statements, stream).last_revision : Number(from);
    const subscription = this.track(streamSource(this.statements, this.pageSize, stream, after));
    return options.resolveLinkTos === true ? resolvingSubscription(this, subscription) : subscription;
  }

  subscribeToAll(options: SubscribeToAllOptions = {}): Subscription {
    this.assertOpen();
    const from = validatePositionBound(options.fromPosition);
    const filter = compileAllFilter(options.filter);
    const interval = validateCheckpointInterval(options.checkpointInterval);
    validateWriter(options.excludeWriter, 'excludeWriter');
    const after = from === 'start' ? 0 : from === 'end' ? (this.statements.headPosition.get() ?? 0) : Number(from.commit);
    const subscription = this.track(allSource(this.statements, this.pageSize, after, { filter, checkpointInterval: interval, skip: validateSkip(options.skip), localAppends: this.localAppends }));
    return options.resolveLinkTos === true ? resolvingSubscription(this, subscription) : subscription;
  }

  async deleteStream(stream: string, options: DeleteOptions = {}): Promise<DeleteResult> {
    return this.remove(stream, options, false);
  }

  async tombstoneStream(stream: string, options: DeleteOptions = {}): Promise<DeleteResult> {
    return this.remove(stream, options, true);
  }

  async setStreamMetadata(stream: string, metadata: StreamMetadata, options: AppendOptions = {}): Promise<AppendResult> {
    this.assertOpen();
    validateStreamName(stream);
    const valid = validateStreamMetadata(metadata);
    const expected = validateExpectedRevision(options.expectedRevision);
    return this.writer.write({ kind: 'setMetadata', stream, metadata: valid, expected }) as Promise<AppendResult>;
  }

  async getStreamMetadata(stream: string): Promise<StreamMetadata | undefined> {
    this.assertOpen();
    validateStreamName(stream);
    const state = writes.streamState(this.statements, stream);
    if (state.tombstoned) throw new StreamDeletedError(stream);
    return writes.readStreamMetadata(state);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    // Groups stop first: their last checkpoint writes still go in.
    await this.persistentSubscriptions.close();
    this.closed = true;
    // What callers were already promised is written before the file is closed.
    await this.writer.close();
    for (const subscription of [...this.subscriptions]) await subscription.unsubscribe();
    this.signal.close();
    this.db.close();
  }

  private async remove(stream: string, options: DeleteOptions, tombstone: boolean): Promise<DeleteResult> {
    this.assertOpen();
    validateStreamName(stream);
    const expected = validateExpectedRevision(options.expectedRevision);
    return this.writer.write({ kind: 'delete', stream, expected, tombstone }) as Promise<DeleteResult>;
  }

  private track(source: PageSource): Subscription {
    const subscription = new StoreSubscription(source, this.signal, (ended) => this.subscriptions.delete(ended));
    this.subscriptions.add(subscription);
    return subscription;
  }

  private assertOpen(): void {
    if (this.closed) throw new StoreClosedError();
  }
}
