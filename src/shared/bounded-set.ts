/**
 * A set that forgets its oldest members past a limit: for memories that only save work (a member
 * forgotten costs a re-read, never a wrong answer), so that a long-running process stays bounded.
 */
export class BoundedSet<T> {
  readonly #members = new Set<T>();
  readonly #limit: number;

  constructor(limit: number) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`BoundedSet limit must be a positive integer, got ${limit}`);
    this.#limit = limit;
  }

  get size(): number {
    return this.#members.size;
  }

  has(value: T): boolean {
    return this.#members.has(value);
  }

  /** Adds `value` as the newest member; the oldest is forgotten when the limit is passed. */
  add(value: T): void {
    this.#members.delete(value);
    this.#members.add(value);
    if (this.#members.size > this.#limit) this.#members.delete(this.#members.values().next().value as T);
  }

  delete(value: T): boolean {
    return this.#members.delete(value);
  }
}
