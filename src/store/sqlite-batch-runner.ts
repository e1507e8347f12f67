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

/** `committed` with one packed outcome per request, or `failed`: the transaction rolled back, nothing was written. */
export type BatchOutcome =
  | { readonly kind: 'committed'; readonly outcomes: PackedOutcomes; /** Committed in the previous batch's transaction (the writer thread joins waiting batches). */ readonly joined?: true }
  | { readonly kind: 'failed'; readonly message: string };

export function batchRunner(db: Database.Database, statements: Statements): (requests: readonly WriteRequest[]) => BatchOutcome {
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
  return (requests) => {
    const outcomes: PackedOutcomes = [];
    try {
      transaction.immediate(requests, outcomes);
      return { kind: 'committed', outcomes };
    } catch (error) {
      // The transaction itself failed (lock timeout, disk full) and rolled back.
      heads.clear();
      return { kind: 'failed', message: (error as Error).message };
    }
  };
}
