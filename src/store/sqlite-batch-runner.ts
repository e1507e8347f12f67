/**
 * One batch of write requests in one `BEGIN IMMEDIATE` transaction on one connection, each request
 * checked on its own: the writer thread runs every batch it is sent this way, and the threaded
 * writer runs small batches this way on the calling thread's connection while the thread is idle.
 */
import type Database from 'better-sqlite3';
import { StoreError } from './errors.js';
import { StreamHeads } from './sqlite-heads.js';
import type { Statements } from './sqlite-rows.js';
import type { WriteContext } from './sqlite-writes.js';
import { packOutcome, refusalData, runWrite, type PackedOutcomes, type WriteRequest } from './sqlite-write-requests.js';

/**
 * `committed` with one packed outcome per request, or `failed`: the transaction rolled back, nothing
 * was written; `locked` (only from a runner that does not wait for the lock): another connection
 * holds the write lock, nothing was written.
 */
export type BatchOutcome =
  | { readonly kind: 'committed'; readonly outcomes: PackedOutcomes; /** Committed in the previous batch's transaction (the writer thread joins waiting batches). */ readonly joined?: true }
  | { readonly kind: 'failed'; readonly message: string }
  | { readonly kind: 'locked' };

export interface BatchRunnerOptions {
  /**
   * Do not wait for another connection's write lock: answer `locked` at once, and let a connection
   * that may wait (the writer thread's) take the batch. Given the connection's busy timeout, which
   * is set to 0 around each transaction and then restored. Without it, the busy timeout applies.
   */
  readonly withoutWaiting?: { readonly busyTimeoutMs: number };
}

export function batchRunner(db: Database.Database, statements: Statements, options: BatchRunnerOptions = {}): (requests: readonly WriteRequest[]) => BatchOutcome {
  // A per-connection head cache, trusted only while no other connection has committed.
  const heads = new StreamHeads();
  const context: WriteContext = { statements, heads, written: 0 };
  const transaction = db.transaction((requests: readonly WriteRequest[], outcomes: PackedOutcomes) => {
    heads.begin(statements.dataVersion.get() as number);
    for (const request of requests) {
      try {
        context.written = 0;
        const value = runWrite(context, request);
        packOutcome(outcomes, { ok: true, value, written: context.written });
      } catch (error) {
        // A refusal is thrown before the request writes anything: the rest of the batch goes on.
        if (!(error instanceof StoreError)) throw error;
        packOutcome(outcomes, { ok: false, refusal: refusalData(error) });
      }
    }
  });
  const run = (requests: readonly WriteRequest[]): BatchOutcome => {
    const outcomes: PackedOutcomes = [];
    try {
      transaction.immediate(requests, outcomes);
      return { kind: 'committed', outcomes };
    } catch (error) {
      // The transaction itself failed (lock timeout, disk full) and rolled back.
      heads.clear();
      if (options.withoutWaiting && isBusy(error)) return { kind: 'locked' };
      return { kind: 'failed', message: (error as Error).message };
    }
  };
  if (!options.withoutWaiting) return run;
  const noWait = db.prepare('PRAGMA busy_timeout = 0');
  const restore = db.prepare(`PRAGMA busy_timeout = ${options.withoutWaiting.busyTimeoutMs}`);
  return (requests) => {
    noWait.run();
    try {
      return run(requests);
    } finally {
      restore.run();
    }
  };
}

/** SQLITE_BUSY and its extended codes: another connection holds a lock this one needs. */
function isBusy(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' && code.startsWith('SQLITE_BUSY');
}
