/**
 * Who wrote the recent appends, for subscriptions that ask to leave one writer's appends out: an
 * extension of ours, named by two headers that EventStoreDB ignores (docs/esdb-compatibility.md,
 * "Writer headers"). An append carrying `cadenza-writer` is remembered once it is stored; a `$all`
 * subscription carrying `cadenza-exclude-writer` passes over that writer's appends through the
 * store's `skip` (header first: never read in full, never sent), and its checkpoints move on past
 * them as past any event its filter considered.
 *
 * Memory, not truth: per stream, the run of revisions last appended by one writer, for the most
 * recently appended streams only. An event not remembered here is delivered, which is always
 * correct (the subscriber learns of its own appends from their answers and passes over those it
 * knows), so forgetting costs only the work this saves.
 */

/** Streams remembered (most recently appended first out): a minute of a busy engine's workflows. */
export const WRITER_MEMORY_STREAMS = 65_536;

interface Run {
  readonly writer: string;
  readonly first: number;
  last: number;
}

export class RecentWriters {
  readonly #capacity: number;
  /** Insertion order is last-append order: the first key is the one to forget. */
  readonly #runs = new Map<string, Run>();

  constructor(capacity = WRITER_MEMORY_STREAMS) {
    this.#capacity = capacity;
  }

  get size(): number {
    return this.#runs.size;
  }

  /**
   * `writer` stored `count` events in `stream`, the last at `lastRevision`. Call once the append is
   * stored (and before its subscribers are woken: the store wakes them a turn after the commit).
   */
  record(writer: string, stream: string, lastRevision: bigint, count: number): void {
    if (count <= 0) return;
    const last = Number(lastRevision);
    const first = last - count + 1;
    const run = this.#runs.get(stream);
    this.#runs.delete(stream);
    // The same writer going on where it left off (or appending the same events again): one run.
    if (run && run.writer === writer && first >= run.first && first <= run.last + 1) {
      run.last = Math.max(run.last, last);
      this.#runs.set(stream, run);
      return;
    }
    this.#runs.set(stream, { writer, first, last });
    if (this.#runs.size > this.#capacity) {
      const oldest = this.#runs.keys().next().value;
      if (oldest !== undefined) this.#runs.delete(oldest);
    }
  }

  /** Whether `writer` appended the event at `revision` of `stream`, as far as is remembered. */
  wrote(writer: string, stream: string, revision: bigint): boolean {
    const run = this.#runs.get(stream);
    if (run === undefined || run.writer !== writer) return false;
    const at = Number(revision);
    return at >= run.first && at <= run.last;
  }
}

/** The headers, lower case as gRPC metadata keys are. */
export const WRITER_HEADER = 'cadenza-writer';
export const EXCLUDE_WRITER_HEADER = 'cadenza-exclude-writer';

/** A header's text value, if the call has one (a binary or repeated header is not ours: ignored). */
export function headerText(metadata: { get(key: string): unknown[] }, key: string): string | undefined {
  const values = metadata.get(key);
  const value = values.length === 1 ? values[0] : undefined;
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}
