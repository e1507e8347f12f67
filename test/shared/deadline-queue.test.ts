import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DeadlineQueue, type Deadline } from '../../src/shared/deadline-queue.js';

interface Entry extends Deadline {
  readonly name: string;
}

const entry = (name: string, dueAt: number): Entry => ({ name, dueAt, queueIndex: -1 });

beforeEach(() => {
  vi.useFakeTimers({ now: 0 });
});
afterEach(() => {
  vi.useRealTimers();
});

function queue(): { queue: DeadlineQueue<Entry>; fired: string[][] } {
  const fired: string[][] = [];
  return { queue: new DeadlineQueue<Entry>((due) => fired.push(due.map((e) => e.name)), { now: () => Date.now() }), fired };
}

describe('deadline queue', () => {
  it('fires entries when they are due, earliest first, those due together in one call', () => {
    const { queue: q, fired } = queue();
    for (const [name, at] of [['c', 300], ['a', 100], ['b', 100], ['d', 50]] as const) q.add(entry(name, at));
    expect(q.size).toBe(4);
    vi.advanceTimersByTime(49);
    expect(fired).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(fired).toEqual([['d']]);
    vi.advanceTimersByTime(50);
    expect(fired.map((names) => [...names].sort())).toEqual([['d'], ['a', 'b']]);
    vi.advanceTimersByTime(1_000);
    expect(fired.at(-1)).toEqual(['c']);
    expect(q.size).toBe(0);
  });

  it('never fires a removed entry; an emptied queue keeps one timer for the next entry', () => {
    const { queue: q, fired } = queue();
    const early = entry('early', 10);
    const late = entry('late', 20);
    q.add(early);
    q.add(late);
    q.remove(early);
    q.remove(early); // twice is harmless
    vi.advanceTimersByTime(15);
    expect(fired).toEqual([]);
    q.remove(late);
    expect(q.size).toBe(0);
    // Calls that settle at once empty the queue after each one: the next reuses the armed timer.
    q.add(entry('next', 40));
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(100);
    expect(fired).toEqual([['next']]);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('re-arms for an entry earlier than the one it waits for, and keeps heap order under removals', () => {
    const { queue: q, fired } = queue();
    const entries = Array.from({ length: 50 }, (_, i) => entry(`e${i}`, 1_000 - i * 10));
    for (const e of entries) q.add(e);
    for (const e of entries.filter((_, i) => i % 3 === 0)) q.remove(e);
    vi.advanceTimersByTime(1_000);
    const order = fired.flat();
    const expected = entries.filter((_, i) => i % 3 !== 0).sort((a, b) => a.dueAt - b.dueAt).map((e) => e.name);
    expect(order).toEqual(expected);
  });

  it('adding an entry that is already queued changes nothing; stop ends firing', () => {
    const { queue: q, fired } = queue();
    const e = entry('once', 5);
    q.add(e);
    q.add(e);
    expect(q.size).toBe(1);
    q.stop();
    vi.advanceTimersByTime(10);
    expect(fired).toEqual([]);
  });
});
