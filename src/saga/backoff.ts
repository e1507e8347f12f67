/** Retry delays: exponential backoff capped at maxDelayMs, with a random part taken off (jitter). */
import type { RetryPolicy } from '../workflow/definition.js';

/**
 * Delay before the next attempt after `failedInRound` failed attempts of the current round:
 * `min(maxDelayMs, initialDelayMs * multiplier^(failedInRound-1)) * (1 - jitter * random())`, rounded.
 */
export function backoffDelay(policy: RetryPolicy, failedInRound: number, random: () => number): number {
  const exponential = policy.initialDelayMs * policy.multiplier ** Math.max(0, failedInRound - 1);
  const capped = Math.min(policy.maxDelayMs, exponential);
  const r = Math.min(Math.max(random(), 0), 1);
  return Math.max(0, Math.round(capped * (1 - policy.jitter * r)));
}
