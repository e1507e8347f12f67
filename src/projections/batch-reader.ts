/**
 * Pulls subscription messages in batches: everything that is available without waiting for I/O, up
 * to a maximum. During catch-up that is a full batch per transaction; live, a batch is whatever
 * arrived together, so latency stays low without a timer.
 */
const yielded = Symbol('yielded');

/** Resolves once the microtask queue has drained, i.e. once the source is waiting on real I/O. */
function afterPendingMicrotasks(): Promise<typeof yielded> {
  return new Promise((resolve) => setImmediate(() => resolve(yielded)));
}

export class BatchReader<T> {
  private pending: Promise<IteratorResult<T>> | undefined;
  private done = false;

  constructor(private readonly iterator: AsyncIterator<T>) {}

  /** The next batch (at least one item), or `undefined` when the source has ended. */
  async next(maxItems: number): Promise<T[] | undefined> {
    if (this.done) return undefined;
    const first = await this.take();
    if (first.done) return this.end();
    const batch = [first.value];
    const turn = afterPendingMicrotasks();
    while (batch.length < maxItems) {
      this.pending ??= this.iterator.next();
      const result = await Promise.race([this.pending, turn]);
      if (result === yielded) break;
      this.pending = undefined;
      if (result.done) {
        this.done = true;
        break;
      }
      batch.push(result.value);
    }
    return batch;
  }

  private take(): Promise<IteratorResult<T>> {
    const next = this.pending ?? this.iterator.next();
    this.pending = undefined;
    return next;
  }

  private end(): undefined {
    this.done = true;
    return undefined;
  }
}
