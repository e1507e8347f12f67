/** Several processes on one store file: writes stay consistent and live subscribers see each other's appends. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WrongExpectedVersionError } from '../../src/store/errors.js';
import { comparePositions } from '../../src/store/port.js';
import { SqliteEventStore } from '../../src/store/sqlite-store.js';
import { finished, startWorker } from './child-process.js';
import { collect, event, eventsOf, takeUntil } from './contract/helpers.js';
import { tempStoreFile } from './temp-store.js';

describe('sqlite: several processes on one file', () => {
  let path: string;
  let remove: () => Promise<void>;
  beforeEach(() => {
    ({ path, remove } = tempStoreFile());
  });
  afterEach(async () => remove());

  it('keeps revisions and positions correct when two processes append concurrently', async () => {
    const perWorker = 120;
    await Promise.all([finished(startWorker('counter', path, 'counter', String(perWorker))), finished(startWorker('counter', path, 'counter', String(perWorker)))]);

    const store = SqliteEventStore.open(path);
    try {
      const counter = await collect(() => store.readStream('counter'));
      expect(counter.map((one) => one.revision)).toEqual(Array.from({ length: 2 * perWorker }, (_, index) => BigInt(index)));
      // Every increment was decided from the revision just before it: no update was lost.
      counter.forEach((one, index) => expect((one.data as { seen: string }).seen).toBe(index === 0 ? 'no_stream' : String(index - 1)));
      expect(new Set(counter.map((one) => (one.data as { pid: number }).pid)).size).toBe(2);

      const shared = await collect(() => store.readStream('counter-shared'));
      expect(shared.map((one) => one.revision)).toEqual(Array.from({ length: 2 * perWorker }, (_, index) => BigInt(index)));

      const all = await collect(() => store.readAll());
      expect(all).toHaveLength(4 * perWorker);
      for (let index = 1; index < all.length; index++) expect(comparePositions(all[index - 1]!.position, all[index]!.position)).toBe(-1);
    } finally {
      await store.close();
    }
  });

  it('does not trust its cached stream head once another process has appended to the stream', async () => {
    const store = SqliteEventStore.open(path);
    try {
      expect((await store.append('between', [event('Ours')], { expectedRevision: 'no_stream' })).nextExpectedRevision).toBe(0n);
      await finished(startWorker('burst', path, 'between', '5'));
      const stale = store.append('between', [event('Ours')], { expectedRevision: 0n });
      await expect(stale).rejects.toBeInstanceOf(WrongExpectedVersionError);
      await expect(stale).rejects.toMatchObject({ actual: 5n });
      expect((await store.append('between', [event('Ours')], { expectedRevision: 5n })).nextExpectedRevision).toBe(6n);
      const read = await collect(() => store.readStream('between'));
      expect(read.map((one) => one.type)).toEqual(['Ours', 'Burst', 'Burst', 'Burst', 'Burst', 'Burst', 'Ours']);
    } finally {
      await store.close();
    }
  });

  it('delivers appends made by another process to a live subscription', async () => {
    const store = SqliteEventStore.open(path, { livePollIntervalMs: 20 });
    try {
      const subscription = store.subscribeToAll({ filter: { streamNamePrefix: ['burst'] } });
      let caughtUp!: () => void;
      const isCaughtUp = new Promise<void>((resolve) => (caughtUp = resolve));
      const received = takeUntil(subscription, (seen) => {
        if (seen.at(-1)?.kind === 'caughtUp') caughtUp();
        return eventsOf(seen).length === 30;
      });
      await isCaughtUp;
      await finished(startWorker('burst', path, 'burst', '30'));
      const messages = await received;
      expect(eventsOf(messages).map((one) => (one.data as { index: number }).index)).toEqual(Array.from({ length: 30 }, (_, index) => index));
      expect(store.stats.transactions).toBe(0);
    } finally {
      await store.close();
    }
  });
});
