import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { TimerWheel } from '../../src/saga/runtime/timer-wheel.js';
import type { TimerRef } from '../../src/saga/state.js';

beforeEach(() => {
  vi.useFakeTimers({ now: 0 });
});
afterEach(() => {
  vi.useRealTimers();
});

function wheel(): { wheel: TimerWheel; fired: string[] } {
  const fired: string[] = [];
  const w = new TimerWheel((workflowId: string, timer: TimerRef) => fired.push(`${workflowId}:${timer.kind}:${timer.stepId}:${timer.attempt}`), () => Date.now());
  return { wheel: w, fired };
}

describe('TimerWheel', () => {
  it('fires each timer once, at its due time, earliest first, across workflows', () => {
    const { wheel: w, fired } = wheel();
    w.set('a', [{ kind: 'stepTimeout', stepId: 's1', attempt: 1, dueAt: 300 }, { kind: 'retryDue', stepId: 's2', attempt: 2, dueAt: 100 }]);
    w.set('b', [{ kind: 'stepTimeout', stepId: 's1', attempt: 1, dueAt: 200 }]);
    vi.advanceTimersByTime(99);
    expect(fired).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(fired).toEqual(['a:retryDue:s2:2']);
    vi.advanceTimersByTime(1_000);
    expect(fired).toEqual(['a:retryDue:s2:2', 'b:stepTimeout:s1:1', 'a:stepTimeout:s1:1']);
    expect(w.size).toBe(0);
  });

  it('replacing a workflow\'s timers drops the ones it no longer has; clear drops all', () => {
    const { wheel: w, fired } = wheel();
    w.set('a', [{ kind: 'stepTimeout', stepId: 's1', attempt: 1, dueAt: 100 }, { kind: 'stepTimeout', stepId: 's2', attempt: 1, dueAt: 150 }]);
    // s1's attempt finished and attempt 2 of s2 was scheduled with a later deadline.
    w.set('a', [{ kind: 'stepTimeout', stepId: 's2', attempt: 2, dueAt: 400 }]);
    w.set('b', [{ kind: 'retryDue', stepId: 'x', attempt: 2, dueAt: 50 }]);
    w.clear('b');
    vi.advanceTimersByTime(399);
    expect(fired).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(fired).toEqual(['a:stepTimeout:s2:2']);
  });

  it('replacing some steps\' timers leaves the other steps\' timers armed', () => {
    const { wheel: w, fired } = wheel();
    w.set('a', [
      { kind: 'stepTimeout', stepId: 's1', attempt: 1, dueAt: 100 },
      { kind: 'stepTimeout', stepId: 's2', attempt: 1, dueAt: 200 },
      { kind: 'stepTimeout', stepId: 's3', attempt: 1, dueAt: 300 },
    ]);
    // s1 succeeded (no timer left), s2 failed and waits for its retry; s3 was not touched.
    w.setSteps('a', ['s1', 's2'], [{ kind: 'retryDue', stepId: 's2', attempt: 2, dueAt: 250 }]);
    expect(w.size).toBe(2);
    vi.advanceTimersByTime(1_000);
    expect(fired).toEqual(['a:retryDue:s2:2', 'a:stepTimeout:s3:1']);
    // A step's compensation timer and its own are kept apart by kind, and a fired timer is gone.
    w.setSteps('a', ['s3'], [{ kind: 'compensationTimeout', stepId: 's3', attempt: 1, dueAt: 1_500 }]);
    w.setSteps('a', ['s3'], [{ kind: 'compensationTimeout', stepId: 's3', attempt: 1, dueAt: 1_500 }]);
    expect(w.size).toBe(1);
    vi.advanceTimersByTime(1_000);
    expect(fired.at(-1)).toBe('a:compensationTimeout:s3:1');
    expect(w.size).toBe(0);
  });

  it('fires nothing after stop', () => {
    const { wheel: w, fired } = wheel();
    w.set('a', [{ kind: 'stepTimeout', stepId: 's1', attempt: 1, dueAt: 10 }]);
    w.stop();
    vi.advanceTimersByTime(100);
    expect(fired).toEqual([]);
  });
});
