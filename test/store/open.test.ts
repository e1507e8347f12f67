import { existsSync } from 'node:fs';
import { setImmediate as nextTurn } from 'node:timers/promises';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../src/store/errors.js';
import { defaultStoreUri, FALLBACK_STORE_URI, openServedStore, openStore } from '../../src/store/open.js';
import type { SqliteEventStore } from '../../src/store/sqlite-store.js';
import { collect, event } from './contract/helpers.js';
import { tempStoreFile } from './temp-store.js';

describe('openStore', () => {
  let file: ReturnType<typeof tempStoreFile>;
  const savedEnvironment = process.env.CADENZA_STORE;
  beforeEach(() => {
    file = tempStoreFile();
  });
  afterEach(async () => {
    if (savedEnvironment === undefined) delete process.env.CADENZA_STORE;
    else process.env.CADENZA_STORE = savedEnvironment;
    await file.remove();
  });

  it('defaults to CADENZA_STORE, else the embedded store under ./.cadenza', () => {
    delete process.env.CADENZA_STORE;
    expect(defaultStoreUri()).toBe(FALLBACK_STORE_URI);
    expect(FALLBACK_STORE_URI).toBe('sqlite:./.cadenza/cadenza.db');
    process.env.CADENZA_STORE = 'memory:';
    expect(defaultStoreUri()).toBe('memory:');
  });

  it('opens the default store, creating its directory on first use', async () => {
    const nested = join(file.path, '..', 'deeper', 'still', 'events.db');
    process.env.CADENZA_STORE = `sqlite:${nested}`;
    const store = await openStore();
    await store.append('opened', [event('Opened')]);
    await store.close();
    expect(existsSync(nested)).toBe(true);

    const reopened = await openStore(`sqlite:${nested}?durability=normal&poll=25`);
    expect(await collect(() => reopened.readStream('opened'))).toHaveLength(1);
    await reopened.close();
  });

  it('keeps memory: stores apart', async () => {
    const first = await openStore('memory:');
    const second = await openStore('memory:');
    await first.append('only-in-first', [event('A')]);
    expect(await collect(() => second.readAll())).toEqual([]);
    await Promise.all([first.close(), second.close()]);
  });

  it.each([
    ['', /non-empty/],
    ['postgres://db/events', /Unsupported store URI scheme "postgres:"/],
    ['./events.db', /no scheme/],
    ['sqlite:', /no file path/],
    ['sqlite:./x.db?durability=sometimes', /durability must be full or normal/],
    ['sqlite:./x.db?poll=-5', /poll must be a positive integer/],
    ['sqlite:./x.db?smallBatch=few', /smallBatch must be a non-negative integer/],
    ['memory:?colour=blue', /unknown option "colour"/],
  ])('rejects %j with a clear error', async (uri, message) => {
    const error = await openStore(uri).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect((error as Error).message).toMatch(message);
  });

  it('opens a served store that commits a lone append on its own thread, and appends made together in one commit', async () => {
    const store = (await openServedStore(`sqlite:${file.path}`)) as SqliteEventStore;
    try {
      let settled = false;
      const lone = store.append('served-lone', [event('Lone')]).then((result) => {
        settled = true;
        return result;
      });
      await nextTurn();
      await nextTurn();
      // Committed in the turn after it was made: no writer thread to start, send it to and hear back from.
      expect(settled).toBe(true);
      expect((await lone).nextExpectedRevision).toBe(0n);
      const before = store.stats;
      const together = await Promise.all(Array.from({ length: 10 }, (_, index) => store.append(`served-${index}`, [event('Together')])));
      expect(together.map((result) => result.nextExpectedRevision)).toEqual(Array<bigint>(10).fill(0n));
      expect(store.stats.operations - before.operations).toBe(10);
      expect(store.stats.transactions - before.transactions).toBe(1);
      expect((await collect(() => store.readStream('served-9'))).map((one) => one.type)).toEqual(['Together']);
    } finally {
      await store.close();
    }
  });

  it('opens a served store whose appends, made in separate turns while a commit waits, share commits', async () => {
    const store = (await openServedStore(`sqlite:${file.path}`)) as SqliteEventStore;
    const lockHolder = new Database(file.path);
    try {
      await store.append('served', [event('First')]);
      // Another connection holds the write lock: the commit in progress waits for it, as a served
      // store's commit waits for its fsync, and the clients' appends keep arriving turn by turn.
      lockHolder.exec('BEGIN IMMEDIATE');
      const before = store.stats;
      const appends: Promise<unknown>[] = [];
      for (let turn = 0; turn < 20; turn++) {
        appends.push(store.append('served', [event('Appended', { turn })]));
        // The caller's event loop keeps turning: the waiting commit is on the writer thread.
        await nextTurn();
      }
      lockHolder.exec('COMMIT');
      await Promise.all(appends);
      expect(store.stats.operations - before.operations).toBe(20);
      // One commit for the first batch sent, one for the batches that waited in the thread, one for
      // those held back while eight were in flight: not one per turn.
      expect(store.stats.transactions - before.transactions).toBeLessThanOrEqual(3);
      const turns = (await collect(() => store.readStream('served'))).slice(1).map((one) => (one.data as { turn: number }).turn);
      expect(turns).toEqual([...Array(20).keys()]);
    } finally {
      lockHolder.close();
      await store.close();
    }
  });
});
