/**
 * What this store's own connections appended lately: for each append that inserted events, its
 * stream, how many events, and the revision and position of the last (an append's events sit at
 * consecutive positions and revisions). A live `$all` subscription with a stream-prefix filter reads
 * the headers of these positions from here instead of from the table: the saga runtime's
 * subscription sees nearly only its own appends, passes over them by stream and revision (`skip`),
 * and so costs no query and no row per event.
 *
 * A ring of the most recent appends, in commit order. A range with a position not here (written by
 * another process, or older than the ring) is read from the table, as before: nothing is guessed.
 */
/**
 * Appends held by default: about a second of a busy engine's appends (the trading saga at c500
 * makes ~20,000 a second). A reader that comes back once a second (/metrics beside an engine), or a
 * follower that falls a burst behind, then still reads from here; at 4,096 both fell through to
 * the table, which cost the engine's thread ~5% (docs/benchmarks.md). ~1 MB.
 */
export const LOCAL_APPENDS_CAPACITY = 32_768;

export type HeaderVisitor = (position: number, stream: string, revision: number) => void;

export class LocalAppends {
  readonly #capacity: number;
  readonly #streams: string[];
  readonly #lastPositions: Float64Array;
  readonly #lastRevisions: Float64Array;
  readonly #counts: Float64Array;
  /** Ring slot of the oldest append, and how many are held. */
  #oldest = 0;
  #size = 0;

  constructor(capacity = LOCAL_APPENDS_CAPACITY) {
    this.#capacity = capacity;
    this.#streams = new Array<string>(capacity).fill('');
    this.#lastPositions = new Float64Array(capacity);
    this.#lastRevisions = new Float64Array(capacity);
    this.#counts = new Float64Array(capacity);
  }

  get size(): number {
    return this.#size;
  }

  /** An append that inserted `count` events, the last at `lastRevision` and `lastPosition`. Call in commit order. */
  record(stream: string, lastRevision: bigint, lastPosition: bigint, count: number): void {
    let slot: number;
    if (this.#size < this.#capacity) {
      slot = (this.#oldest + this.#size) % this.#capacity;
      this.#size += 1;
    } else {
      slot = this.#oldest;
      this.#oldest = (this.#oldest + 1) % this.#capacity;
    }
    this.#streams[slot] = stream;
    this.#lastPositions[slot] = Number(lastPosition);
    this.#lastRevisions[slot] = Number(lastRevision);
    this.#counts[slot] = count;
  }

  /**
   * Visit the event at every position from `from` to `to` (inclusive), in order, if all of them are
   * here; otherwise visit nothing and return false.
   */
  visit(from: number, to: number, visitor: HeaderVisitor): boolean {
    const first = this.#find(from);
    if (first < 0) return false;
    // Contiguous from `from` to `to`? (Another process's commit in between leaves a gap.)
    let index = first;
    for (let last = this.#lastPosition(index); last < to; ) {
      index += 1;
      if (index >= this.#size || this.#firstPosition(index) !== last + 1) return false;
      last = this.#lastPosition(index);
    }
    for (let i = first; i <= index; i++) {
      const slot = (this.#oldest + i) % this.#capacity;
      const stream = this.#streams[slot] as string;
      const lastPosition = this.#lastPositions[slot] as number;
      const count = this.#counts[slot] as number;
      const firstRevision = (this.#lastRevisions[slot] as number) - count + 1;
      const firstPosition = lastPosition - count + 1;
      const start = Math.max(from, firstPosition);
      const end = Math.min(to, lastPosition);
      for (let position = start; position <= end; position++) visitor(position, stream, firstRevision + (position - firstPosition));
    }
    return true;
  }

  /** The ring index (0 = oldest) of the append holding `position`, or -1. */
  #find(position: number): number {
    let low = 0;
    let high = this.#size - 1;
    while (low <= high) {
      const mid = (low + high) >> 1;
      if (this.#lastPosition(mid) < position) low = mid + 1;
      else if (this.#firstPosition(mid) > position) high = mid - 1;
      else return mid;
    }
    return -1;
  }

  #lastPosition(index: number): number {
    return this.#lastPositions[(this.#oldest + index) % this.#capacity] as number;
  }

  #firstPosition(index: number): number {
    const slot = (this.#oldest + index) % this.#capacity;
    return (this.#lastPositions[slot] as number) - (this.#counts[slot] as number) + 1;
  }
}
