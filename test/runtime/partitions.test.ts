/**
 * The partition table's balancing rule (pure) and its leases through a real store: fair shares,
 * expiry plus grace before a dead member's partitions are taken, guests that yield to workers, and
 * the expected revision as the fence between two runtimes renewing at once.
 */
import { describe, expect, it } from 'vitest';
import pino from 'pino';
import { openStore } from '../../src/store/open.js';
import { balance, graceOf, ownedBy, partitionOf, partitionTableStream, PartitionLeases, readTable, type PartitionTable } from '../../src/saga/runtime/partitions.js';

const ttlMs = 10_000;
const graceMs = graceOf(ttlMs);
const step = (table: PartitionTable | undefined, me: string, now: number, extra: { guest?: boolean; leave?: boolean } = {}) => balance(table, 16, { me, now, ttlMs, graceMs, ...extra });
const counts = (table: PartitionTable) => Object.fromEntries(Object.keys(table.members).map((id) => [id, ownedBy(table, id).size]));

describe('partitionOf', () => {
  it('is stable and spreads workflow ids over the partitions', () => {
    expect(partitionOf('trade-1', 16)).toBe(partitionOf('trade-1', 16));
    const perPartition = new Array<number>(16).fill(0);
    for (let i = 0; i < 1600; i++) perPartition[partitionOf(`wf-${i}`, 16)]! += 1;
    expect(Math.min(...perPartition)).toBeGreaterThan(50);
    expect(Math.max(...perPartition)).toBeLessThan(150);
  });
});

describe('balance', () => {
  it('gives a lone runtime every partition, and converges on fair shares as others join', () => {
    let table = step(undefined, 'a', 0);
    expect(counts(table)).toEqual({ a: 16 });
    table = step(table, 'b', 1); // nothing free yet: b is a member with nothing
    expect(counts(table)).toEqual({ a: 16, b: 0 });
    table = step(table, 'a', 2); // a releases beyond ceil(16 / 2)
    expect(counts(table)).toEqual({ a: 8, b: 0 });
    table = step(table, 'b', 3);
    expect(counts(table)).toEqual({ a: 8, b: 8 });
    table = step(table, 'c', 4);
    table = step(table, 'a', 5);
    table = step(table, 'b', 6);
    table = step(table, 'c', 7);
    expect(counts(table)).toEqual({ a: 6, b: 6, c: 4 });
    // Every partition has exactly one owner.
    expect(table.owners.every((owner) => owner !== null)).toBe(true);
  });

  it('takes a dead member\'s partitions only after its expiry plus the grace', () => {
    let table = step(undefined, 'a', 0);
    table = step(table, 'b', 1);
    table = step(table, 'b', ttlMs + graceMs - 1); // a expired, but within the grace: still a's
    expect(counts(table)).toEqual({ a: 16, b: 0 });
    table = step(table, 'b', ttlMs + graceMs + 1);
    expect(counts(table)).toEqual({ b: 16 });
  });

  it('frees everything at once when a member leaves', () => {
    let table = step(undefined, 'a', 0);
    table = step(table, 'b', 1);
    table = step(table, 'a', 2, { leave: true });
    expect(table.members).not.toHaveProperty('a');
    expect(table.owners.every((owner) => owner === null)).toBe(true);
    expect(counts(step(table, 'b', 3))).toEqual({ b: 16 });
  });

  it('lets a guest take what no worker wants, and yield it all when a worker is live', () => {
    let table = step(undefined, 'tool', 0, { guest: true });
    expect(counts(table)).toEqual({ tool: 16 });
    table = step(table, 'worker', 1);
    table = step(table, 'tool', 2, { guest: true });
    expect(counts(table)).toEqual({ tool: 0, worker: 0 });
    expect(counts(step(table, 'worker', 3))).toEqual({ tool: 0, worker: 16 });
    // A guest never takes a partition from a worker.
    expect(counts(step(step(table, 'worker', 3), 'tool', 4, { guest: true }))).toEqual({ tool: 0, worker: 16 });
  });

  it('keeps the partition count a table was written with', () => {
    const table = balance(step(undefined, 'a', 0), 64, { me: 'b', now: 1, ttlMs, graceMs });
    expect(table.partitions).toBe(16);
    expect(table.owners).toHaveLength(16);
  });
});

describe('PartitionLeases on a store', () => {
  it('fences two runtimes renewing at once by the expected revision: every partition has one owner', async () => {
    const store = await openStore('memory:');
    const log = pino({ level: 'silent' });
    const owned = new Map<string, Set<number>>();
    const leasesOf = (runtimeId: string) => {
      owned.set(runtimeId, new Set());
      return new PartitionLeases({
        store, log, runtimeId, tableKeys: ['trade@1'], partitions: 16, ttlMs, guest: false, now: Date.now,
        changed: (_key, gained, lost) => {
          const mine = owned.get(runtimeId)!;
          for (const partition of gained) mine.add(partition);
          for (const partition of lost) mine.delete(partition);
        },
      });
    };
    const runtimes = ['a', 'b', 'c'].map(leasesOf);
    // Renew all three at once, a few rounds: conflicts are re-read and recomputed, never lost.
    for (let round = 0; round < 4; round++) await Promise.all(runtimes.map((leases) => leases.renew()));
    const { table, revision } = await readTable(store, partitionTableStream('trade@1'));
    expect(table).toBeDefined();
    expect(counts(table!)).toEqual({ a: expect.any(Number), b: expect.any(Number), c: expect.any(Number) });
    expect(Object.values(counts(table!)).sort()).toEqual([4, 6, 6]);
    // What each runtime believes it owns is what the table says, and no partition is believed twice.
    for (const id of ['a', 'b', 'c']) expect([...owned.get(id)!].sort((x, y) => x - y)).toEqual([...ownedBy(table!, id)].sort((x, y) => x - y));
    expect(revision).toBeGreaterThan(0n);
    expect(await store.getStreamMetadata(partitionTableStream('trade@1'))).toMatchObject({ maxCount: 16 });
    await runtimes[0]!.leave();
    expect(counts((await readTable(store, partitionTableStream('trade@1'))).table!)).not.toHaveProperty('a');
    await store.close();
  });
});
