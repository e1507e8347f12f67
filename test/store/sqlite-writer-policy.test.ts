/**
 * docs/store.md, "The writer thread", the promises about which way a batch goes that
 * test/store/sqlite.test.ts left open (found by Stryker on src/store/sqlite-writer.ts): "busy" is a
 * moving average of at least 15 µs per write by default, "a batch of 64 goes as soon as it is full",
 * and a writer needs a connection to write on.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { SqliteEventStore } from '../../src/store/sqlite-store.js';
import { GroupCommitWriter } from '../../src/store/sqlite-writer.js';
import { waitForSync } from '../support/wait-for.js';
import { committedCounter, movedClock, turn } from './producer-turns.js';
import { tempStoreFile } from './temp-store.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  vi.restoreAllMocks();
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function fileStore(options: Parameters<typeof SqliteEventStore.open>[1] = {}) {
  const file = tempStoreFile();
  const store = SqliteEventStore.open(file.path, options);
  const reader = committedCounter(file.path);
  cleanups.push(file.remove, () => store.close(), reader.close);
  return { store, committed: reader.committed };
}

/**
 * A turn of 200 writes that the policy does not send to the thread: nothing of it is committed while
 * the turn goes on, and all of it in one commit on this thread as soon as the turn has ended (the
 * writer's end-of-turn callback runs before this one's); sent to the thread, it would not be.
 */
async function writtenHereAtTheEndOfTheTurn(store: SqliteEventStore, clock: { now: number }, round: number, busyMicros: number, committed: (round: number) => number): Promise<void> {
  const before = store.stats.transactions;
  const appends = turn(store, clock, round, 200, busyMicros);
  expect(committed(round)).toBe(0);
  await new Promise((resolve) => setImmediate(resolve));
  expect(committed(round)).toBe(200);
  expect(store.stats.transactions - before).toBe(1);
  await appends;
}

describe('the busy threshold', () => {
  it('is 15 µs per write by default: a producer at 16 µs has its full batches sent while its turn goes on', async () => {
    const clock = movedClock();
    const { store, committed } = fileStore();
    // The moving average (a fifth of each turn's measure) passes 15 after 13 turns at 16 µs.
    for (let round = 0; round < 14; round++) await turn(store, clock, round, 100, 16);
    await turn(store, clock, 14, 200, 16, (queued) => {
      if (queued === 128) waitForSync(() => committed(14) >= 64, { what: 'the first full batch of a producer at 16 µs per write to be committed while its turn goes on' });
    });
    expect(committed(14)).toBe(200);
  });

  it('is not reached by a producer at 14 µs: its turns are written at their end, each in one commit', async () => {
    const clock = movedClock();
    const { store, committed } = fileStore();
    for (let round = 0; round < 30; round++) await turn(store, clock, round, 100, 14);
    await writtenHereAtTheEndOfTheTurn(store, clock, 30, 14, committed);
  });

  it('measures only turns of at least 8 writes', async () => {
    const clock = movedClock();
    const { store, committed } = fileStore({ busyProducerMicros: 100 });
    // Turns of 7 writes at 1 ms each are not measured: the producer is not busy after them.
    for (let round = 0; round < 20; round++) await turn(store, clock, round, 7, 1000);
    await writtenHereAtTheEndOfTheTurn(store, clock, 20, 0, committed);
    // Turns of 8 are: after a few, a full batch goes to the thread at once.
    for (let round = 21; round < 31; round++) await turn(store, clock, round, 8, 1000);
    await turn(store, clock, 31, 200, 0, (queued) => {
      if (queued === 128) waitForSync(() => committed(31) >= 64, { what: 'a full batch to be committed while the turn goes on, after turns of 8 measured as busy' });
    });
  });
});

describe('a full batch', () => {
  it('goes to the thread at its 64th write', async () => {
    const clock = movedClock();
    // Any producer is busy: the batch goes the moment it is full, not a write later.
    const { store, committed } = fileStore({ busyProducerMicros: 0 });
    await turn(store, clock, 0, 64, 0, (queued) => {
      if (queued === 64) waitForSync(() => committed(0) === 64, { what: 'the 64 writes of a full batch to be committed before the turn ends' });
    });
  });

  it('is one commit: the end of the turn that filled it, with nothing left queued, commits nothing more ("stats.transactions counts the real commits")', async () => {
    const clock = movedClock();
    const { store, committed } = fileStore({ busyProducerMicros: 0 });
    const before = store.stats;
    // The turn's first write scheduled a send for its end; the 64th sent the batch, so that send
    // finds the queue empty (and the thread, done with the batch, would commit anything sent alone).
    await turn(store, clock, 0, 64, 0, (queued) => {
      if (queued === 64) waitForSync(() => committed(0) === 64, { what: 'the 64 writes of a full batch to be committed before the turn ends' });
    });
    // close() waits for anything still in flight, so a commit sent after the batch is counted too.
    await store.close();
    expect(committed(0)).toBe(64);
    expect(store.stats.transactions - before.transactions).toBe(1);
    expect(store.stats.operations - before.operations).toBe(64);
  });
});

describe('close()', () => {
  it('"waits for every accepted write, then stops" the thread: each append has settled when it returns', async () => {
    // Writes only queued (none sent yet), and eight full batches in flight with more queued behind them.
    for (const count of [3, 9 * 64 + 3]) {
      const file = tempStoreFile();
      cleanups.push(file.remove);
      const store = SqliteEventStore.open(file.path, { busyProducerMicros: 0, smallBatch: 0 });
      let settled = 0;
      const appends = Array.from({ length: count }, (_, i) => store.append(`closing-${i % 7}`, [{ id: crypto.randomUUID(), type: 'Accepted', data: { i } }]).finally(() => settled++));
      await store.close();
      expect(settled).toBe(count);
      await Promise.all(appends);
      const reopened = SqliteEventStore.open(file.path, { writer: 'inline' });
      cleanups.push(() => reopened.close());
      let read = 0;
      for await (const recorded of reopened.readAll()) if (recorded.type === 'Accepted') read++;
      expect(read).toBe(count);
    }
  });
});

describe('a writer', () => {
  it('needs a connection to write on', () => {
    expect(() => new GroupCommitWriter({ afterCommit: () => {} })).toThrow(new Error('A store writer needs a connection to write on'));
  });
});
