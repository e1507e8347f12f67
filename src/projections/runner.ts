/**
 * The projection runner: feeds one projection from a checkpointed, filtered `$all` subscription.
 * Each batch of events is folded and committed together with the checkpoint in one SQLite
 * transaction, so after a crash the read model and the checkpoint agree: nothing is counted twice and
 * nothing is skipped. The checkpoint carries a generation number, checked in the transaction: if
 * another process committed in between, this runner throws its cache away and resumes from what is
 * stored (optimistic concurrency, as for appends to the event store).
 */
import Database from 'better-sqlite3';
import type { EventStore, Position, RecordedEvent, SubscriptionMessage } from '../store/port.js';
import { comparePositions } from '../store/port.js';
import { BatchReader } from './batch-reader.js';
import { type Checkpoint, clearPoison, readCheckpoint, recordPoison, writeCheckpoint } from './bookkeeping.js';
import { countEventsAfter, type Lag } from './lag.js';
import { describeFailure, type Projection } from './projection.js';
import type { ReadModelDb } from './readmodel-db.js';

export interface RunnerOptions {
  /** Most events folded per transaction. Default 2000. */
  readonly batchSize?: number;
  /** Checkpoint messages from the filtered subscription every this many considered events. Default 1000. */
  readonly checkpointInterval?: number;
  /** Clock for the bookkeeping timestamps. */
  readonly now?: () => Date;
  /** Called after every committed batch (progress bars, tests). */
  readonly onCommit?: (progress: CommitProgress) => void;
}

export interface CommitProgress {
  readonly projection: string;
  readonly events: number;
  readonly poison: number;
  readonly position: Position | undefined;
  readonly caughtUp: boolean;
}

export interface RunnerStatus {
  readonly projection: string;
  readonly checkpoint: Position | undefined;
  readonly eventsApplied: number;
  readonly caughtUp: boolean;
  readonly running: boolean;
}

/** Another process committed to this projection since this runner last did. */
class CheckpointMovedError extends Error {}

export class ProjectionRunner {
  private readonly batchSize: number;
  private readonly checkpointInterval: number;
  private readonly now: () => Date;
  private checkpoint!: Checkpoint;
  private caughtUp = false;
  private running = false;
  private stopRequested = false;
  private subscription: { unsubscribe(): Promise<void> } | undefined;

  constructor(
    private readonly store: EventStore,
    private readonly db: ReadModelDb,
    readonly projection: Projection,
    private readonly options: RunnerOptions = {},
  ) {
    this.batchSize = options.batchSize ?? 2000;
    this.checkpointInterval = options.checkpointInterval ?? 1000;
    this.now = options.now ?? (() => new Date());
    projection.install(db);
    this.loadCheckpoint();
  }

  /** Fold everything up to the head of `$all`, commit, and stop. */
  async catchUp(): Promise<RunnerStatus> {
    const before = this.checkpoint.eventsApplied;
    await this.consume(true);
    // After a large catch-up, refresh the query planner's statistics (approximate, so cheap): with
    // several indexes on a table, SQLite picks the selective one only when it knows the data.
    if (this.checkpoint.eventsApplied - before >= 50_000) this.db.exec('PRAGMA analysis_limit = 1000; ANALYZE');
    return this.status();
  }

  /** Fold and keep following live events until {@link stop}. */
  async run(): Promise<void> {
    await this.consume(false);
  }

  async stop(): Promise<void> {
    this.stopRequested = true;
    await this.subscription?.unsubscribe();
  }

  /** Delete the read model and its checkpoint in one transaction; the next run folds from zero. */
  rebuild(): void {
    if (this.running) throw new Error(`Projection ${this.projection.name} is running: stop it before a rebuild`);
    this.reset();
  }

  status(): RunnerStatus {
    return {
      projection: this.projection.name,
      checkpoint: this.checkpoint.position,
      eventsApplied: this.checkpoint.eventsApplied,
      caughtUp: this.caughtUp,
      running: this.running,
    };
  }

  /** Events of this projection's streams in `$all` after its checkpoint (counted up to `cap`). */
  async lag(cap?: number): Promise<Lag> {
    return countEventsAfter(this.store, this.checkpoint.position, this.projection.filter, cap);
  }

  private loadCheckpoint(): void {
    const stored = readCheckpoint(this.db, this.projection.name);
    if (stored === undefined || stored.version !== this.projection.version) this.reset();
    else this.checkpoint = stored;
  }

  private reset(): void {
    const fresh = this.db.transaction((): Checkpoint => {
      // Read inside the transaction: the new generation must beat whatever another process wrote.
      const previous = readCheckpoint(this.db, this.projection.name);
      const checkpoint: Checkpoint = {
        projection: this.projection.name,
        version: this.projection.version,
        position: undefined,
        generation: (previous?.generation ?? 0) + 1,
        eventsApplied: 0,
        updatedAt: this.now().toISOString(),
      };
      this.projection.clear(this.db);
      clearPoison(this.db, this.projection.name);
      writeCheckpoint(this.db, checkpoint);
      return checkpoint;
    }).immediate();
    this.projection.discard();
    this.checkpoint = fresh;
    this.caughtUp = false;
  }

  private async consume(untilCaughtUp: boolean): Promise<void> {
    if (this.running) throw new Error(`Projection ${this.projection.name} is already running`);
    this.running = true;
    this.stopRequested = false;
    try {
      for (;;) {
        try {
          await this.follow(untilCaughtUp);
          return;
        } catch (error) {
          if (!(error instanceof CheckpointMovedError)) throw error;
          // Someone else folded (or rebuilt) this projection: continue from what they stored.
          this.projection.discard();
          this.loadCheckpoint();
        }
      }
    } finally {
      this.running = false;
    }
  }

  private async follow(untilCaughtUp: boolean): Promise<void> {
    // Every subscription starts with historical events: caught up only once it says so.
    this.caughtUp = false;
    const subscription = this.store.subscribeToAll({
      fromPosition: this.checkpoint.position ?? 'start',
      filter: this.projection.filter,
      checkpointInterval: this.checkpointInterval,
    });
    this.subscription = subscription;
    if (this.stopRequested) await subscription.unsubscribe();
    const reader = new BatchReader<SubscriptionMessage>(subscription[Symbol.asyncIterator]());
    try {
      for (;;) {
        const messages = await reader.next(this.batchSize);
        if (messages === undefined) return;
        const events: RecordedEvent[] = [];
        let position = this.checkpoint.position;
        let caughtUpNow = false;
        for (const message of messages) {
          if (message.kind === 'event') {
            events.push(message.event);
            position = later(position, message.event.position);
          } else if (message.kind === 'checkpoint') {
            position = later(position, message.position);
          } else if (message.kind === 'caughtUp') {
            caughtUpNow = true;
          } else {
            this.caughtUp = false;
          }
        }
        // What decoding needs beyond the event (a start's definition) is loaded before the synchronous
        // fold; what cannot be loaded makes the event poison there.
        if (this.projection.prepare) for (const event of events) await this.projection.prepare(this.store, event)?.catch(() => undefined);
        const poison = events.length > 0 || position !== this.checkpoint.position ? this.commit(events, position) : 0;
        if (caughtUpNow) this.caughtUp = true;
        this.options.onCommit?.({
          projection: this.projection.name,
          events: events.length,
          poison,
          position,
          caughtUp: this.caughtUp,
        });
        if (this.caughtUp && untilCaughtUp) return;
      }
    } finally {
      this.subscription = undefined;
      await subscription.unsubscribe();
    }
  }

  /** Returns how many of the events were poison. */
  private commit(events: readonly RecordedEvent[], position: Position | undefined): number {
    const { db, projection } = this;
    const next: Checkpoint = {
      ...this.checkpoint,
      position,
      generation: this.checkpoint.generation + 1,
      eventsApplied: this.checkpoint.eventsApplied + events.length,
      updatedAt: this.now().toISOString(),
    };
    let poison = 0;
    const transaction = db.transaction(() => {
      poison = 0;
      const stored = readCheckpoint(db, projection.name);
      if (stored?.generation !== this.checkpoint.generation) throw new CheckpointMovedError();
      for (const event of events) {
        try {
          projection.apply(db, event);
        } catch (error) {
          if (error instanceof Database.SqliteError) throw error;
          recordPoison(db, projection.name, event, describeFailure(error), this.now());
          poison += 1;
        }
      }
      projection.flush(db);
      writeCheckpoint(db, next);
    });
    try {
      transaction.immediate();
    } catch (error) {
      projection.discard();
      throw error;
    }
    this.checkpoint = next;
    return poison;
  }
}

function later(current: Position | undefined, candidate: Position): Position {
  return current === undefined || comparePositions(candidate, current) > 0 ? candidate : current;
}
