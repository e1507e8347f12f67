/**
 * The embedded store's paged reads (src/store/sqlite-read.ts) at their edges, with pages small
 * enough that every read crosses several: where a read starts when asked to start outside the
 * visible window, counts that end mid-page, a filter with a count, iterating twice, failing once,
 * a scan of empty pages that lets the event loop run, and how many rows a filtered read takes.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StoreClosedError, StreamNotFoundError } from '../../src/store/errors.js';
import type { AllFilter, RecordedEvent } from '../../src/store/port.js';
import { readAllPages } from '../../src/store/sqlite-read.js';
import { prepareStoreStatements, type Statements } from '../../src/store/sqlite-rows.js';
import { openDatabase } from '../../src/store/sqlite-schema.js';
import { SqliteEventStore } from '../../src/store/sqlite-store.js';
import { compileAllFilter } from '../../src/store/validation.js';
import { collect, event, events } from './contract/helpers.js';
import { tempStoreFile } from './temp-store.js';

let store: SqliteEventStore;
beforeEach(() => {
  store = SqliteEventStore.open(':memory:', { pageSize: 3 });
});
afterEach(async () => {
  await store.close();
});

const revisions = (read: readonly RecordedEvent[]) => read.map((one) => Number(one.revision));
const positions = (read: readonly RecordedEvent[]) => read.map((one) => Number(one.position.commit));

describe('stream reads', () => {
  it('starts a read from outside the visible window at its edge', async () => {
    await store.append('s', events(10));
    await store.setStreamMetadata('s', { truncateBefore: 4n });
    expect(revisions(await collect(() => store.readStream('s', { fromRevision: 1n })))).toEqual([4, 5, 6, 7, 8, 9]);
    expect(revisions(await collect(() => store.readStream('s', { direction: 'backwards', fromRevision: 50n })))).toEqual([9, 8, 7, 6, 5, 4]);
    expect(revisions(await collect(() => store.readStream('s', { direction: 'backwards', fromRevision: 6n, maxCount: 2 })))).toEqual([6, 5]);
    expect(revisions(await collect(() => store.readStream('s', { direction: 'backwards', fromRevision: 2n })))).toEqual([]);
    expect(revisions(await collect(() => store.readStream('s', { fromRevision: 'end' })))).toEqual([]);
    expect(revisions(await collect(() => store.readStream('s', { direction: 'backwards', fromRevision: 'start' })))).toEqual([]);
  });

  it('stops at the count exactly, on a page boundary or inside a page', async () => {
    await store.append('s', events(10));
    for (const maxCount of [1, 2, 3, 4, 6, 7, 9, 10, 11]) {
      expect(revisions(await collect(() => store.readStream('s', { maxCount }))), `forwards ${maxCount}`).toEqual(Array.from({ length: Math.min(maxCount, 10) }, (_, i) => i));
      expect(revisions(await collect(() => store.readStream('s', { direction: 'backwards', maxCount }))), `backwards ${maxCount}`).toEqual(Array.from({ length: Math.min(maxCount, 10) }, (_, i) => 9 - i));
    }
  });

  it('keeps the newest maxCount events whatever the direction and start', async () => {
    await store.append('s', events(10));
    await store.setStreamMetadata('s', { maxCount: 4 });
    expect(revisions(await collect(() => store.readStream('s', { fromRevision: 0n })))).toEqual([6, 7, 8, 9]);
    expect(revisions(await collect(() => store.readStream('s', { direction: 'backwards', maxCount: 10 })))).toEqual([9, 8, 7, 6]);
    await store.setStreamMetadata('s', { maxCount: 20 });
    expect(revisions(await collect(() => store.readStream('s')))).toHaveLength(10);
  });

  it('reads afresh on every iteration of one result, and ends a read that failed', async () => {
    await store.append('s', events(4));
    const read = store.readStream('s');
    expect(revisions(await collect(() => read))).toEqual([0, 1, 2, 3]);
    await store.append('s', events(1));
    expect(revisions(await collect(() => read))).toEqual([0, 1, 2, 3, 4]);

    await expect(store.readStream('nothing')[Symbol.asyncIterator]().next()).rejects.toBeInstanceOf(StreamNotFoundError);
  });

  it('fails a read of a store closed under it once, then ends it', async () => {
    await store.append('s', events(10));
    const iterator = store.readStream('s')[Symbol.asyncIterator]();
    expect(Number((await iterator.next()).value?.revision)).toBe(0);
    await store.close();
    // The rest of the page already read is still handed out; the next page is refused.
    expect([(await iterator.next()).value?.revision, (await iterator.next()).value?.revision]).toEqual([1n, 2n]);
    await expect(iterator.next()).rejects.toBeInstanceOf(StoreClosedError);
    expect(await iterator.next()).toEqual({ done: true, value: undefined });
  });

  it('ends a read left early, and reads no further page for it', async () => {
    await store.append('s', events(10));
    const iterator = store.readStream('s')[Symbol.asyncIterator]();
    expect(Number((await iterator.next()).value?.revision)).toBe(0);
    expect(await iterator.return?.()).toEqual({ done: true, value: undefined });
    expect(await iterator.next()).toEqual({ done: true, value: undefined });
  });
});

describe('$all reads', () => {
  it('stops a filtered read at its count inside a page', async () => {
    await store.append('a', [event('Keep'), event('Keep'), event('Keep'), event('Keep'), event('Drop'), event('Keep')]);
    const filter = { eventTypePrefix: ['Keep'] };
    expect(positions(await collect(() => store.readAll({ filter, maxCount: 2 })))).toEqual([1, 2]);
    expect(positions(await collect(() => store.readAll({ filter, maxCount: 4 })))).toEqual([1, 2, 3, 4]);
    expect(positions(await collect(() => store.readAll({ filter, maxCount: 5 })))).toEqual([1, 2, 3, 4, 6]);
    expect(positions(await collect(() => store.readAll({ filter, direction: 'backwards', maxCount: 2 })))).toEqual([6, 4]);
    expect(positions(await collect(() => store.readAll({ maxCount: 4 })))).toEqual([1, 2, 3, 4]);
    expect(positions(await collect(() => store.readAll({ direction: 'backwards', maxCount: 4 })))).toEqual([6, 5, 4, 3]);
  });

  it('filters on the stream name or on the event type, as asked', async () => {
    await store.append('orders-1', [event('customers-x')]);
    await store.append('customers-1', [event('orders-y')]);
    expect((await collect(() => store.readAll({ filter: { streamNamePrefix: ['orders'] } }))).map((one) => one.stream)).toEqual(['orders-1']);
    expect((await collect(() => store.readAll({ filter: { eventTypePrefix: ['orders'] } }))).map((one) => one.stream)).toEqual(['customers-1']);
  });

  it('reads nothing forwards from the end or backwards from the start', async () => {
    await store.append('a', events(4));
    expect(await collect(() => store.readAll({ fromPosition: 'end' }))).toEqual([]);
    expect(await collect(() => store.readAll({ direction: 'backwards', fromPosition: 'start' }))).toEqual([]);
  });

  it('lets the event loop run while a filter scans many pages that match nothing', async () => {
    await store.append('noise', events(300));
    await store.append('needle', [event('Found')]);
    let turns = 0;
    let counting = true;
    const count = (): void => {
      turns += 1;
      if (counting) setImmediate(count);
    };
    setImmediate(count);
    // 100 empty pages of 3 rows: without yielding every few pages the whole scan would be one turn.
    const read = await collect(() => store.readAll({ filter: { streamNamePrefix: ['needle'] } }));
    counting = false;
    expect(read.map((one) => one.type)).toEqual(['Found']);
    expect(turns).toBeGreaterThanOrEqual(10);
  });
});

describe('how many rows a filtered $all read takes', () => {
  /** The store's own statements over a real file, counting the rows each $all page query returns. */
  async function countingReads(fill: (store: SqliteEventStore) => Promise<void>) {
    const file = tempStoreFile();
    const writer = SqliteEventStore.open(file.path);
    await fill(writer);
    await writer.close();
    const db = openDatabase(file.path, { durability: 'full', busyTimeoutMs: 5000 });
    const statements = prepareStoreStatements(db);
    let rows = 0;
    const counted = (statement: Statements['allForwards']) => ({ all: (...args: [number, number]) => { const page = statement.all(...args); rows += page.length; return page; } });
    const context = { statements: { ...statements, allForwards: counted(statements.allForwards), allBackwards: counted(statements.allBackwards) } as unknown as Statements, pageSize: 500, assertOpen: () => {} };
    return {
      async read(request: { direction: 'forwards' | 'backwards'; from: 'start' | 'end'; maxCount: number; filter: AllFilter }) {
        rows = 0;
        const read = await collect(() => readAllPages(context, { ...request, filter: compileAllFilter(request.filter) }));
        return { positions: positions(read), rows };
      },
      async close() {
        db.close();
        await file.remove();
      },
    };
  }

  it('takes about what it asks for near its matches, and still finds sparse ones, in order', async () => {
    const reads = await countingReads(async (store) => {
      await store.append('wanted-1', events(1));
      for (let i = 0; i < 10; i++) await store.append('noise', events(100));
      for (let i = 2; i <= 4; i++) await store.append(`wanted-${i}`, events(1));
    });
    try {
      const filter = { streamNamePrefix: ['wanted-'] };
      // The newest match is the newest row: one row read, not a page of 500.
      expect(await reads.read({ direction: 'backwards', from: 'end', maxCount: 1, filter })).toEqual({ positions: [1004], rows: 1 });
      expect(await reads.read({ direction: 'backwards', from: 'end', maxCount: 3, filter })).toEqual({ positions: [1004, 1003, 1002], rows: 3 });
      // Past 1,000 rows of noise: pages of 4, 8, 16, ... then 500; every match found, in order.
      const sparse = await reads.read({ direction: 'backwards', from: 'end', maxCount: 4, filter });
      expect(sparse.positions).toEqual([1004, 1003, 1002, 1]);
      expect(sparse.rows).toBe(1004);
      expect((await reads.read({ direction: 'forwards', from: 'start', maxCount: 2, filter })).positions).toEqual([1, 1002]);
      expect((await reads.read({ direction: 'forwards', from: 'start', maxCount: 10, filter })).positions).toEqual([1, 1002, 1003, 1004]);
    } finally {
      await reads.close();
    }
  });
});
