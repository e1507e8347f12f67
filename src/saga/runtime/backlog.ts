/**
 * The limit on workflows in flight in one runtime. Starts beyond the limit wait in a FIFO backlog
 * (visible through `size`/`waiting`) and are admitted as running workflows end.
 */
export class Backlog {
  readonly #limit: number;
  readonly #waiting: Array<() => void> = [];
  #active = 0;

  constructor(limit: number) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`maxInFlight must be a positive integer, got ${limit}`);
    this.#limit = limit;
  }

  get limit(): number {
    return this.#limit;
  }

  /** Workflows holding a slot. */
  get active(): number {
    return this.#active;
  }

  /** Starts waiting for a slot. */
  get waiting(): number {
    return this.#waiting.length;
  }

  /** Resolves when a slot is free; the caller must `release()` it exactly once. */
  acquire(): Promise<void> {
    if (this.#active < this.#limit) {
      this.#active++;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.#waiting.push(resolve));
  }

  release(): void {
    const next = this.#waiting.shift();
    if (next) next();
    else this.#active = Math.max(0, this.#active - 1);
  }
}
