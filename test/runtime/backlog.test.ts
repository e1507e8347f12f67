import { describe, expect, it } from 'vitest';
import { Backlog } from '../../src/saga/runtime/backlog.js';

describe('Backlog (one runtime\'s slots and queued workflows)', () => {
  it('gives new starts a slot up to the limit, and none while anything is queued', () => {
    const backlog = new Backlog(2);
    expect([backlog.tryHold('a'), backlog.tryHold('b'), backlog.tryHold('c')]).toEqual([true, true, false]);
    backlog.forget('a');
    backlog.enqueue('q', 0, 5);
    // A slot is free, but q waits for it: a newcomer does not jump the queue.
    expect(backlog.tryHold('d')).toBe(false);
    expect(backlog.admitNext()).toBe('q');
    expect({ active: backlog.active, waiting: backlog.waiting }).toEqual({ active: 2, waiting: 0 });
    expect(() => new Backlog(0)).toThrow(/maxInFlight must be a positive integer/);
  });

  it('admits by priority, higher first, then the oldest, then by id', () => {
    const backlog = new Backlog(100);
    backlog.hold('busy');
    const queued: [string, number, number][] = [['low-old', -5, 1], ['mid-new', 0, 30], ['high', 7, 50], ['mid-old', 0, 10], ['mid-tie-b', 0, 20], ['mid-tie-a', 0, 20], ['top', 100, 99]];
    for (const [id, priority, at] of queued) backlog.enqueue(id, priority, at);
    expect(backlog.depthByPriority()).toEqual([{ priority: 100, depth: 1 }, { priority: 7, depth: 1 }, { priority: 0, depth: 4 }, { priority: -5, depth: 1 }]);
    const order: string[] = [];
    for (let id = backlog.admitNext(); id !== undefined; id = backlog.admitNext()) order.push(id);
    expect(order).toEqual(['top', 'high', 'mid-old', 'mid-tie-a', 'mid-tie-b', 'mid-new', 'low-old']);
  });

  it('admits only while slots are free, and skips workflows that left the queue', () => {
    const backlog = new Backlog(1);
    backlog.hold('running');
    backlog.enqueue('cancelled', 9, 1);
    backlog.enqueue('next', 1, 2);
    backlog.enqueue('last', 0, 3);
    expect(backlog.admitNext()).toBeUndefined();
    backlog.forget('cancelled');
    backlog.forget('running');
    expect(backlog.admitNext()).toBe('next');
    expect(backlog.admitNext()).toBeUndefined();
    // An admission that could not be stored puts the workflow back in its place.
    backlog.requeue('next', 1, 2);
    expect(backlog.waiting).toBe(2);
    expect(backlog.admitNext()).toBe('next');
    // A workflow admitted elsewhere (or taken over) holds a slot even beyond the limit; admissions wait.
    backlog.hold('taken-over');
    expect(backlog.active).toBe(2);
    backlog.forget('next');
    expect(backlog.admitNext()).toBeUndefined();
    backlog.forget('taken-over');
    expect(backlog.admitNext()).toBe('last');
  });

  it('keeps the order through many pushes and pops (the heap against a sort)', () => {
    const backlog = new Backlog(1_000_000);
    const entries = Array.from({ length: 500 }, (_, i) => ({ id: `w${String(i).padStart(3, '0')}`, priority: ((i * 37) % 11) - 5, at: (i * 101) % 97 }));
    for (const e of entries) backlog.enqueue(e.id, e.priority, e.at);
    for (const e of entries.filter((_, i) => i % 7 === 0)) backlog.forget(e.id);
    const expected = entries
      .filter((_, i) => i % 7 !== 0)
      .sort((a, b) => b.priority - a.priority || a.at - b.at || (a.id < b.id ? -1 : 1))
      .map((e) => e.id);
    const order: string[] = [];
    for (let id = backlog.admitNext(); id !== undefined; id = backlog.admitNext()) order.push(id);
    expect(order).toEqual(expected);
  });
});
