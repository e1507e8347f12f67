/**
 * Group commit: write operations queued in one turn of the event loop run together in a single
 * `BEGIN IMMEDIATE` transaction, so many concurrent callers share one WAL fsync. Each operation is
 * checked on its own; one that is refused (a StoreError, thrown before it writes) fails alone.
 */
import type Database from 'better-sqlite3';
import { StoreError, UnavailableError } from './errors.js';

/** A queued operation; `ok` and `value` hold its outcome once the transaction has run it. */
interface Operation {
  readonly run: () => unknown;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
  ok: boolean;
  value: unknown;
}

export interface CommitStats {
  /** Transactions committed (each one fsync with durable settings). */
  readonly transactions: number;
  /** Write operations run in them. */
  readonly operations: number;
}

export interface CommitHooks {
  /** Runs first inside every transaction, once the write lock is held. */
  readonly begin?: () => void;
  /** Runs after a commit, once every caller's promise is settled. */
  readonly afterCommit: () => void;
  /** Runs when a transaction failed and was rolled back. */
  readonly afterRollback?: () => void;
}

export class CommitQueue {
  private pending: Operation[] = [];
  private scheduled = false;
  private transactions = 0;
  private operations = 0;
  private readonly runBatch: Database.Transaction<(batch: readonly Operation[]) => void>;
  private readonly scheduleFlush = () => this.flush();

  constructor(
    db: Database.Database,
    private readonly hooks: CommitHooks,
  ) {
    const begin = hooks.begin;
    this.runBatch = db.transaction((batch: readonly Operation[]) => {
      begin?.();
      for (const operation of batch) runOne(operation);
    });
  }

  enqueue<T>(run: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.pending.push({ run, resolve: resolve as (value: unknown) => void, reject, ok: false, value: undefined });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(this.scheduleFlush);
      }
    });
  }

  get stats(): CommitStats {
    return { transactions: this.transactions, operations: this.operations };
  }

  /** Run everything queued now, in one transaction. */
  flush(): void {
    this.scheduled = false;
    const batch = this.pending;
    if (batch.length === 0) return;
    this.pending = [];
    try {
      this.runBatch.immediate(batch);
    } catch (error) {
      // Not a refusal but a failure of the transaction itself (lock timeout, disk full): nothing of
      // the batch was written, so every caller learns it.
      this.hooks.afterRollback?.();
      const failure = error instanceof StoreError ? error : new UnavailableError(`The event store could not commit: ${(error as Error).message}`, { cause: error });
      for (const operation of batch) operation.reject(failure);
      return;
    }
    this.transactions += 1;
    this.operations += batch.length;
    for (const operation of batch) {
      if (operation.ok) operation.resolve(operation.value);
      else operation.reject(operation.value);
    }
    this.hooks.afterCommit();
  }
}

function runOne(operation: Operation): void {
  try {
    operation.value = operation.run();
    operation.ok = true;
  } catch (error) {
    if (!(error instanceof StoreError)) throw error;
    operation.value = error;
  }
}
