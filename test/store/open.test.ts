import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../src/store/errors.js';
import { defaultStoreUri, FALLBACK_STORE_URI, openStore } from '../../src/store/open.js';
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
    ['memory:?colour=blue', /unknown option "colour"/],
  ])('rejects %j with a clear error', async (uri, message) => {
    const error = await openStore(uri).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect((error as Error).message).toMatch(message);
  });
});
