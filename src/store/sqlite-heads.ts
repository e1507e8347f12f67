/**
 * A per-connection cache of stream heads (the `streams` rows the write path reads: last revision,
 * truncation, tombstone, metadata), so an append to a stream this connection wrote recently skips
 * the SELECT of its row.
 *
 * It is trusted only while no other connection has committed: at the start of every write
 * transaction, holding the write lock, the store passes in `PRAGMA data_version`, which changes only
 * when another connection (another process on the same file) commits. A changed version empties the
 * cache, so every head is read again from the table. A transaction that rolls back empties it too,
 * since heads set inside it were never committed.
 */
import type { StreamRow } from './sqlite-rows.js';

/** Heads kept; the least recently written are dropped first. */
export const DEFAULT_HEAD_CACHE_SIZE = 10_000;

export class StreamHeads {
  private readonly heads = new Map<string, StreamRow>();
  private dataVersion: number | undefined;

  constructor(private readonly capacity = DEFAULT_HEAD_CACHE_SIZE) {}

  /** Start of a write transaction (the write lock is held): drop everything if another connection committed. */
  begin(dataVersion: number): void {
    if (dataVersion === this.dataVersion) return;
    this.heads.clear();
    this.dataVersion = dataVersion;
  }

  get(stream: string): StreamRow | undefined {
    return this.heads.get(stream);
  }

  /** The stream's row as this transaction leaves it. */
  set(stream: string, row: StreamRow): void {
    // Re-inserted so that the Map's order is the order of last writes.
    this.heads.delete(stream);
    this.heads.set(stream, row);
    if (this.heads.size > this.capacity) this.heads.delete(this.heads.keys().next().value as string);
  }

  forget(stream: string): void {
    this.heads.delete(stream);
  }

  /** The transaction rolled back (or its outcome is unknown): nothing cached can be trusted. */
  clear(): void {
    this.heads.clear();
    this.dataVersion = undefined;
  }

  get size(): number {
    return this.heads.size;
  }
}
