/**
 * Group commit: write operations queued in one turn of the event loop run together in a single
 * `BEGIN IMMEDIATE` transaction, so many concurrent callers share one WAL fsync. Each operation is
 * checked on its own; one that is refused (a StoreError, thrown before it writes) fails alone.
 */
import type Database from 'better-sqlite3';
import { StoreError, UnavailableError } from './errors.js';

interface Operation {
  run(): unknown;
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

export interface CommitStats {
  /** Transactions committed (each one fsync with durable settings). */
  readonly transactions: number;
  /** Write operations run in them. */
  readonly operations: number;
}

export class CommitQueue {
  private pending: Operation[] = [];
  private scheduled = false;
  private transactions = 0;
  private operations = 0;
  private readonly runBatch: Database.Transaction<(batch: readonly Operation[]) => Outcome[]>;

  constructor(
    db: Database.Database,
    private readonly afterCommit: () => void,
  ) {
    this.runBatch = db.transaction((batch: readonly Operation[]) => batch.map(runOne));
  }

  enqueue<T>(run: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.pending.push({ run, resolve: resolve as (value: unknown) => void, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
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
    let outcomes: Outcome[];
    try {
      outcomes = this.runBatch.immediate(batch);
    } catch (error) {
      // Not a refusal but a failure of the transaction itself (lock timeout, disk full): nothing of
      // the batch was written, so every caller learns it.
      const failure = error instanceof StoreError ? error : new UnavailableError(`The event store could not commit: ${(error as Error).message}`, { cause: error });
      for (const operation of batch) operation.reject(failure);
      return;
    }
    this.transactions += 1;
    this.operations += batch.length;
    batch.forEach((operation, index) => {
      const outcome = outcomes[index] as Outcome;
      if (outcome.ok) operation.resolve(outcome.value);
      else operation.reject(outcome.error);
    });
    this.afterCommit();
  }
}

function runOne(operation: Operation): Outcome {
  try {
    return { ok: true, value: operation.run() };
  } catch (error) {
    if (error instanceof StoreError) return { ok: false, error };
    throw error;
  }
}
