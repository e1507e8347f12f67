/** The retry delay formula (docs/workflows.md): exponential, capped, jitter taken off, rounded. */
import { describe, expect, it } from 'vitest';
import { backoffDelay } from '../../src/saga/index.js';

const policy = { maxAttempts: 5, initialDelayMs: 100, multiplier: 3, maxDelayMs: 2_000, jitter: 0 };

describe('backoffDelay', () => {
  it('grows by the multiplier per failed attempt of the round, up to the cap', () => {
    expect([1, 2, 3, 4, 5].map((failed) => backoffDelay(policy, failed, () => 0))).toEqual([100, 300, 900, 2_000, 2_000]);
  });

  it('treats a round with no failure yet like the first', () => {
    expect(backoffDelay(policy, 0, () => 0)).toBe(100);
    expect(backoffDelay(policy, -3, () => 0)).toBe(100);
  });

  it('takes jitter times the random draw off, rounded to the millisecond', () => {
    const jittered = { ...policy, jitter: 0.5 };
    expect(backoffDelay(jittered, 1, () => 0.33)).toBe(84); // 100 * (1 - 0.165) = 83.5
    expect(backoffDelay(jittered, 1, () => 0.999)).toBe(50);
    expect(backoffDelay({ ...policy, jitter: 1 }, 1, () => 1)).toBe(0);
  });

  it('clamps a random source that strays outside [0, 1]', () => {
    const jittered = { ...policy, jitter: 0.5 };
    expect(backoffDelay(jittered, 1, () => 7)).toBe(50);
    expect(backoffDelay(jittered, 1, () => -2)).toBe(100);
  });
});
