import { getEventListeners } from 'node:events';
import { describe, expect, it, vi } from 'vitest';
import { Bulkhead, BulkheadRejectedError } from '../../src/agents/bulkhead.js';

describe('bulkhead', () => {
  it('grants up to the limit at once and queues the rest', async () => {
    const bulkhead = new Bulkhead({ name: 'b', maxConcurrent: 2 });
    const first = await bulkhead.acquire();
    await bulkhead.acquire();
    let thirdGranted = false;
    const third = bulkhead.acquire().then((release) => {
      thirdGranted = true;
      return release;
    });
    await Promise.resolve();
    expect(bulkhead.active).toBe(2);
    expect(bulkhead.queueLength).toBe(1);
    expect(thirdGranted).toBe(false);
    first();
    first(); // a second release of the same handle is ignored
    await third;
    expect(thirdGranted).toBe(true);
    expect(bulkhead.active).toBe(2);
    expect(bulkhead.queueLength).toBe(0);
  });

  it('serves waiters by priority, higher first, then the oldest (since), then in arrival order', async () => {
    const bulkhead = new Bulkhead({ name: 'b', maxConcurrent: 1 });
    const holder = await bulkhead.acquire();
    const order: string[] = [];
    const wait = (name: string, options: { priority?: number; since?: number }) =>
      bulkhead.acquire(options).then((release) => {
        order.push(name);
        release();
      });
    const waiters = [
      wait('default-first', {}),
      wait('low', { priority: -5, since: 1 }),
      wait('high-new', { priority: 10, since: 300 }),
      wait('high-old', { priority: 10, since: 100 }),
      wait('default-second', {}),
      wait('zero-old', { priority: 0, since: 50 }),
      wait('high-old-later', { priority: 10, since: 100 }),
    ];
    holder();
    await Promise.all(waiters);
    expect(order).toEqual(['high-old', 'high-old-later', 'high-new', 'zero-old', 'default-first', 'default-second', 'low']);
  });

  it('serves waiters first in, first out', async () => {
    const bulkhead = new Bulkhead({ name: 'b', maxConcurrent: 1 });
    const holder = await bulkhead.acquire();
    const order: number[] = [];
    const waiters = [1, 2, 3].map((n) =>
      bulkhead.acquire().then((release) => {
        order.push(n);
        release();
      }),
    );
    expect(bulkhead.queueLength).toBe(3);
    holder();
    await Promise.all(waiters);
    expect(order).toEqual([1, 2, 3]);
  });

  it('refuses when the queue is full and times out a waiter', async () => {
    const bulkhead = new Bulkhead({ name: 'b', maxConcurrent: 1, maxQueue: 1 });
    const holder = await bulkhead.acquire();
    const waiting = bulkhead.acquire({ timeoutMs: 20 });
    await expect(bulkhead.acquire()).rejects.toMatchObject({ reason: 'queue-full' });
    await expect(waiting).rejects.toBeInstanceOf(BulkheadRejectedError);
    await expect(waiting).rejects.toMatchObject({ reason: 'timeout' });
    expect(bulkhead.queueLength).toBe(0);
    holder();
    expect(bulkhead.active).toBe(0);
  });

  it('leaves the queue when the caller aborts', async () => {
    const bulkhead = new Bulkhead({ name: 'b', maxConcurrent: 1 });
    await bulkhead.acquire();
    const controller = new AbortController();
    const waiting = bulkhead.acquire({ signal: controller.signal });
    controller.abort();
    await expect(waiting).rejects.toMatchObject({ reason: 'aborted' });
    expect(bulkhead.queueLength).toBe(0);
  });

  it('refuses a caller that has already aborted, without queueing it', async () => {
    const bulkhead = new Bulkhead({ name: 'b', maxConcurrent: 1 });
    const controller = new AbortController();
    controller.abort();
    // Even with a slot free: an aborted caller gets nothing.
    await expect(bulkhead.acquire({ signal: controller.signal })).rejects.toMatchObject({ reason: 'aborted' });
    expect([bulkhead.active, bulkhead.queueLength]).toEqual([0, 0]);
  });

  it('names itself and the reason in its refusal', async () => {
    const bulkhead = new Bulkhead({ name: 'agent:slow', maxConcurrent: 1, maxQueue: 0 });
    await bulkhead.acquire();
    const refused = await bulkhead.acquire().catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(BulkheadRejectedError);
    expect(refused).toMatchObject({ name: 'BulkheadRejectedError', bulkhead: 'agent:slow', reason: 'queue-full', message: 'Bulkhead "agent:slow" refused a slot: queue-full' });
  });

  it('needs room for at least one holder', () => {
    for (const maxConcurrent of [0, -1, Number.NaN]) {
      expect(() => new Bulkhead({ name: 'none', maxConcurrent })).toThrow(new RangeError('Bulkhead "none": maxConcurrent must be >= 1'));
    }
    expect(new Bulkhead({ name: 'one', maxConcurrent: 1 })).toMatchObject({ maxConcurrent: 1, maxQueue: Number.POSITIVE_INFINITY });
  });

  it('a waiter that is granted leaves no timer and no abort listener behind', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      const bulkhead = new Bulkhead({ name: 'b', maxConcurrent: 1 });
      const holder = await bulkhead.acquire();
      const controller = new AbortController();
      const waiting = bulkhead.acquire({ timeoutMs: 60_000, signal: controller.signal });
      expect([vi.getTimerCount(), getEventListeners(controller.signal, 'abort').length]).toEqual([1, 1]);
      holder();
      const release = await waiting;
      expect([vi.getTimerCount(), getEventListeners(controller.signal, 'abort').length]).toEqual([0, 0]);
      release();
    } finally {
      vi.useRealTimers();
    }
  });
});
