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
 *
 * An append is remembered when the store answers it, but a batch the store's writer thread commits
 * is visible to a subscription's page read before its answer reaches this thread: such events
 * (about a tenth of the engine's at 50 in flight) were read and sent. So appends whose revisions
 * are known beforehand (an exact expected revision or no stream) are also noted while under way,
 * and the subscription holds an event such an append may have written until the append settles:
 * then it is left out if it was the writer's, sent otherwise. Noting never decides anything.
 */

/** Streams remembered (most recently appended first out): a minute of a busy engine's workflows. */
export const WRITER_MEMORY_STREAMS = 65_536;

interface Run {
  readonly writer: string;
  readonly first: number;
  last: number;
}

interface UnderWay {
  readonly writer: string;
  readonly first: number;
  readonly last: number;
  readonly settled: Promise<unknown>;
}

export class RecentWriters {
  readonly #capacity: number;
  /** Insertion order is last-append order: the first key is the one to forget. */
  readonly #runs = new Map<string, Run>();
  /** Per stream, the last append under way whose revisions are known (bounded by the appends in flight). */
  readonly #underWay = new Map<string, UnderWay>();

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

  /**
   * `writer` is appending to `stream` what will be revisions `first` to `last` if it is stored;
   * `settled` resolves (or rejects) when the store has answered, after `record` for a stored one.
   */
  underWay(writer: string, stream: string, first: bigint, last: bigint, settled: Promise<unknown>): void {
    const entry: UnderWay = { writer, first: Number(first), last: Number(last), settled };
    this.#underWay.set(stream, entry);
    const forget = () => {
      if (this.#underWay.get(stream) === entry) this.#underWay.delete(stream);
    };
    settled.then(forget, forget);
  }

  /**
   * For an event a subscription excluding `writer` is about to send: if an append of that writer
   * under way may have written it, a promise that resolves once that append has settled (then ask
   * `wrote` again); else undefined.
   */
  settling(writer: string, stream: string, revision: bigint): Promise<void> | undefined {
    const entry = this.#underWay.get(stream);
    if (entry === undefined || entry.writer !== writer) return undefined;
    const at = Number(revision);
    if (at < entry.first || at > entry.last) return undefined;
    return entry.settled.then(() => undefined, () => undefined);
  }

  /** Whether `writer` appended the event at `revision` of `stream`, as far as is remembered. */
  wrote(writer: string, stream: string, revision: bigint): boolean {
    const run = this.#runs.get(stream);
    if (run === undefined || run.writer !== writer) return false;
    const at = Number(revision);
    return at >= run.first && at <= run.last;
  }
}

/** A header's text value, if the call has one (a binary or repeated header is not ours: ignored). */
export function headerText(metadata: { get(key: string): unknown[] }, key: string): string | undefined {
  const values = metadata.get(key);
  const value = values.length === 1 ? values[0] : undefined;
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}
