/**
 * The writer's `bursts` setting (docs/store.md, "The writer thread"): with `bursts=thread`, a batch is
 * written on the calling thread only when it is below `smallBatch` and the thread is idle; a burst of
 * writes from a producer that only appends goes to the thread like any batch, so the caller's event
 * loop never waits for a commit (the default writes such a burst on the calling thread).
 */
import { setImmediate as nextTurn } from 'node:timers/promises';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { openStore } from '../../src/store/open.js';
import type { SqliteEventStore } from '../../src/store/sqlite-store.js';
import { collect, event } from './contract/helpers.js';
import { tempStoreFile } from './temp-store.js';

afterEach(() => vi.restoreAllMocks());

describe('bursts=thread', () => {
  it('sends a burst made while another connection holds the write lock to the thread: the caller goes on turning, every write lands once the lock is gone', async () => {
    const file = tempStoreFile();
    const store = (await openStore(`sqlite:${file.path}?smallBatch=2&bursts=thread`)) as SqliteEventStore;
    const lockHolder = new Database(file.path);
    // The writer judges its producer by the time between writes: on a clock that stands still, this
    // one only appends (as a server does), on any machine, however loaded.
    vi.spyOn(performance, 'now').mockReturnValue(0);
    try {
      // A lone write with the thread idle: written here, with its own outcome like any.
      expect((await store.append('burst', [event('Lone')])).nextExpectedRevision).toBe(0n);
      lockHolder.exec('BEGIN IMMEDIATE');
      const appends = Array.from({ length: 50 }, (_, index) => store.append('burst', [event('Burst', { index })]));
      // Were the burst written on this thread, the turn below would wait on the lock until the busy timeout.
      let turns = 0;
      for (; turns < 20; turns++) await nextTurn();
      expect(turns).toBe(20);
      expect(store.stats.operations).toBe(1);
      lockHolder.exec('COMMIT');
      await Promise.all(appends);
      expect(store.stats.operations).toBe(51);
      const read = await collect(() => store.readStream('burst'));
      expect(read.map((one) => one.type)).toEqual(['Lone', ...Array<string>(50).fill('Burst')]);
      expect(read.slice(1).map((one) => (one.data as { index: number }).index)).toEqual([...Array(50).keys()]);
    } finally {
      lockHolder.close();
      await store.close();
      await file.remove();
    }
  });

  it.each(['', '?smallBatch=2&bursts=thread'])('never holds the caller on another connection\'s write lock (URI options "%s"): a lone write that finds it held goes to the thread and lands once the lock is gone', async (query) => {
    const file = tempStoreFile();
    // A write that waited for the lock on this thread would hold it for the busy timeout, then fail.
    const store = (await openStore(`sqlite:${file.path}${query === '' ? '?' : `${query}&`}busyTimeout=2000`)) as SqliteEventStore;
    const lockHolder = new Database(file.path);
    try {
      expect((await store.append('locked', [event('Before')])).nextExpectedRevision).toBe(0n);
      lockHolder.exec('BEGIN IMMEDIATE');
      let settled = false;
      const append = store.append('locked', [event('Lone')]).finally(() => {
        settled = true;
      });
      for (let turn = 0; turn < 20; turn++) await nextTurn();
      expect(settled).toBe(false);
      lockHolder.exec('COMMIT');
      expect((await append).nextExpectedRevision).toBe(1n);
      expect((await collect(() => store.readStream('locked'))).map((one) => one.type)).toEqual(['Before', 'Lone']);
    } finally {
      lockHolder.close();
      await store.close();
      await file.remove();
    }
  });

  it('refuses an unknown value in the store URI, naming it', async () => {
    await expect(openStore('sqlite:./x.db?bursts=sometimes')).rejects.toThrow(/bursts must be here or thread, got "sometimes"/);
  });
});
