/**
 * Tells live subscriptions that the log may have grown. Commits made through this store wake them at
 * once; commits by other processes on the same file are noticed by polling `PRAGMA data_version`
 * (which changes only when another connection commits) while anyone is waiting.
 */

/** What a subscription saw just before its last read; a wait returns as soon as anything changed since. */
export interface ChangeToken {
  readonly localCommits: number;
  readonly dataVersion: number;
}

interface Waiter {
  readonly token: ChangeToken;
  readonly wake: () => void;
}

export class ChangeSignal {
  private localCommits = 0;
  private readonly waiters = new Set<Waiter>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly dataVersion: () => number,
    private readonly pollIntervalMs: number,
  ) {}

  token(): ChangeToken {
    return { localCommits: this.localCommits, dataVersion: this.dataVersion() };
  }

  notifyLocalCommit(): void {
    this.localCommits += 1;
    for (const waiter of this.waiters) this.release(waiter);
  }

  /** Resolves when something changed after `token` was taken, or when cancelled. */
  wait(token: ChangeToken): { readonly changed: Promise<void>; cancel(): void } {
    let waiter!: Waiter;
    const changed = new Promise<void>((resolve) => {
      waiter = { token, wake: resolve };
    });
    if (token.localCommits !== this.localCommits || token.dataVersion !== this.dataVersion()) waiter.wake();
    else {
      this.waiters.add(waiter);
      this.startPolling();
    }
    return { changed, cancel: () => this.release(waiter) };
  }

  /** Wake everyone and stop polling (the store is closing). */
  close(): void {
    for (const waiter of this.waiters) this.release(waiter);
  }

  private release(waiter: Waiter): void {
    this.waiters.delete(waiter);
    waiter.wake();
    if (this.waiters.size === 0 && this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  private startPolling(): void {
    if (this.timer) return;
    // Not unref'd: like an open connection to a server, a live subscription keeps its process alive.
    this.timer = setInterval(() => this.poll(), this.pollIntervalMs);
  }

  private poll(): void {
    const version = this.dataVersion();
    for (const waiter of this.waiters) if (waiter.token.dataVersion !== version) this.release(waiter);
  }
}
