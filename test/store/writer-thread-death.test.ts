/**
 * docs/store.md, "The writer thread": "If the thread dies, the writes of the batch it held fail with
 * UnavailableError ... and the next batch starts a new thread." A real thread that really dies: the
 * store's folder is renamed away before the thread starts, so the thread cannot open the file and
 * ends with an uncaught error (the store's own connection, opened before, keeps working). Renamed
 * back, the next batch starts a thread that opens the same file.
 */
import { renameSync } from 'node:fs';
import { dirname } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { StreamNotFoundError, UnavailableError } from '../../src/store/errors.js';
import { SqliteEventStore, type SqliteStoreOptions } from '../../src/store/sqlite-store.js';
import { collect, event } from './contract/helpers.js';
import { tempStoreFile } from './temp-store.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A file store whose folder can be taken away from its (not yet started) writer thread and given back. */
function storeWithMovableFolder(options: SqliteStoreOptions) {
  const file = tempStoreFile();
  const store = SqliteEventStore.open(file.path, options);
  const folder = dirname(file.path);
  let away = false;
  const giveBack = () => {
    if (away) renameSync(`${folder}-away`, folder);
    away = false;
  };
  cleanups.push(async () => {
    giveBack();
    await store.close();
    await file.remove();
  });
  return {
    store,
    takeAway: () => {
      renameSync(folder, `${folder}-away`);
      away = true;
    },
    giveBack,
  };
}

/** Every promise's rejection, failing the test if one was fulfilled. */
async function rejections(promises: readonly Promise<unknown>[]): Promise<unknown[]> {
  const outcomes = await Promise.allSettled(promises);
  return outcomes.map((outcome, i) => {
    if (outcome.status === 'fulfilled') throw new Error(`write ${i} succeeded with its writer thread dead`);
    return outcome.reason;
  });
}

describe('a writer thread that dies', () => {
  it('fails the writes of the batch it held with UnavailableError, and the next batch starts a new thread', async () => {
    // smallBatch 0: every batch goes to the thread (as a served store's do).
    const { store, takeAway, giveBack } = storeWithMovableFolder({ smallBatch: 0 });
    takeAway();
    const ids = ['00000000-0000-4000-8000-000000000001', '00000000-0000-4000-8000-000000000002'];
    const first = () => store.append('survivor', ids.map((id, i) => ({ ...event(i === 0 ? 'One' : 'Two'), id })));
    const [failure] = await rejections([first()]);
    expect(failure).toBeInstanceOf(UnavailableError);
    expect(String(failure)).toMatch(/The store's writer thread stopped: .*directory does not exist/);
    expect(String((failure as Error).cause)).toMatch(/directory does not exist/);
    // Nothing of it was written (the thread never opened the file).
    await expect(collect(() => store.readStream('survivor'))).rejects.toBeInstanceOf(StreamNotFoundError);
    expect(store.stats.transactions).toBe(0);

    giveBack();
    // The same events again (safe either way: their ids make it idempotent), through a new thread.
    const result = await first();
    expect(result.nextExpectedRevision).toBe(1n);
    expect((await collect(() => store.readStream('survivor'))).map((e) => e.id)).toEqual(ids);
    expect(store.stats).toEqual({ transactions: 1, operations: 1 });
  });

  it('fails every batch it held, not only the first, and every write waiting behind them', async () => {
    // Any producer counts as busy: each full batch of 64 is sent at once, eight in flight, the rest
    // queued behind them; all of them were sent to (or wait for) the thread that dies.
    const { store, takeAway, giveBack } = storeWithMovableFolder({ busyProducerMicros: 0, smallBatch: 0 });
    takeAway();
    const writes = Array.from({ length: 9 * 64 + 5 }, (_, i) => store.append(`held-${i}`, [event('Held', { i })]));
    const failures = await rejections(writes);
    expect(failures.every((failure) => failure instanceof UnavailableError && /writer thread stopped/.test(failure.message))).toBe(true);
    expect(store.stats.transactions).toBe(0);

    giveBack();
    const after = await Promise.all(Array.from({ length: 3 }, (_, i) => store.append(`after-${i}`, [event('After', { i })])));
    expect(after.map((result) => result.nextExpectedRevision)).toEqual([0n, 0n, 0n]);
    await expect(collect(() => store.readStream('held-0'))).rejects.toBeInstanceOf(StreamNotFoundError);
    expect((await collect(() => store.readStream('after-2'))).map((e) => e.type)).toEqual(['After']);
  });
});
