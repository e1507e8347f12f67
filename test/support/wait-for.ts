/**
 * Waiting on a condition in a test: with a deadline and a message that says what did not happen, so
 * that a failure reads as "gave up waiting for X" instead of the test runner's bare timeout.
 */

export interface WaitOptions {
  /** What the test waits for, as it should read in "gave up waiting for ...". */
  readonly what: string;
  /** Default 10 s: generous on a loaded machine, well under the runner's own timeouts. */
  readonly timeoutMs?: number;
  readonly intervalMs?: number;
}

/** Resolves once `condition` holds; rejects after `timeoutMs` naming `what`. Errors thrown by the condition propagate. */
export async function waitFor(condition: () => boolean | Promise<boolean>, options: WaitOptions): Promise<void> {
  const { what, timeoutMs = 10_000, intervalMs = 10 } = options;
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what} (after ${timeoutMs} ms)`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/**
 * The same without yielding to the event loop: for a test that must observe something (another
 * thread's commit, say) while its own turn is still running. Sleeps between checks, not spinning.
 */
export function waitForSync(condition: () => boolean, options: WaitOptions): void {
  const { what, timeoutMs = 10_000, intervalMs = 2 } = options;
  const deadline = Date.now() + timeoutMs;
  const sleeper = new Int32Array(new SharedArrayBuffer(4));
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what} (after ${timeoutMs} ms)`);
    Atomics.wait(sleeper, 0, 0, intervalMs);
  }
}

/** `promise`'s result, or a rejection naming `what` if it has not settled after `timeoutMs`. */
export async function settlesWithin<T>(promise: Promise<T>, options: Omit<WaitOptions, 'intervalMs'>): Promise<T> {
  const { what, timeoutMs = 10_000 } = options;
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`gave up waiting for ${what} (after ${timeoutMs} ms)`)), timeoutMs);
  });
  try {
    return await Promise.race([promise, deadline]);
  } finally {
    clearTimeout(timer);
  }
}
