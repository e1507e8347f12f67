/**
 * docs/scaling.md, "Ownership across runtimes", the numbers it gives: a workflow's partition is
 * FNV-1a of its id modulo P (checked against the published FNV-1a test vectors, not the module's own
 * hash), P = 16 and a lease of 10 s by default, a member acts only while `now < expiry - TTL/10`, and
 * others claim its partitions only after `expiry + TTL/5`. Leases on a real memory store, on a clock
 * the test moves.
 */
import pino from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { IN_FLIGHT_INDEX_PREFIX } from '../../src/saga/runtime/in-flight-index.js';
import { partitionOf, partitionTableStream, PartitionLeases, readTable, workflowHash } from '../../src/saga/runtime/partitions.js';
import { knownDefinition, loadDefinition, saveDefinition } from '../../src/saga/stream/definitions.js';
import { openStore } from '../../src/store/open.js';
import { definitionHash } from '../../src/workflow/hash.js';
import { workflow } from '../../src/workflow/index.js';
import type { EventStore } from '../../src/store/port.js';
import { workflow as workflowOf } from '../../src/workflow/index.js';
import { populate } from '../projections/fixtures/populate.js';
import { waitFor } from '../support/wait-for.js';
import { agent, deferred, startTestEngine, type TestEngine } from './support.js';

let engine: TestEngine | undefined;
let store: EventStore | undefined;
afterEach(async () => {
  vi.useRealTimers();
  await engine?.stop();
  await store?.close();
  engine = store = undefined;
});

describe('docs/scaling.md: "a workflow\'s partition is FNV-1a of its id modulo P"', () => {
  it('hashes as FNV-1a (32 bits) does: the published test vectors', () => {
    expect(workflowHash('')).toBe(0x811c9dc5);
    expect(workflowHash('a')).toBe(0xe40c292c);
    expect(workflowHash('foobar')).toBe(0xbf9cf968);
    expect(partitionOf('foobar', 16)).toBe(0xbf9cf968 % 16);
    expect(partitionOf('a', 7)).toBe(0xe40c292c % 7);
  });
});

describe('docs/scaling.md: the defaults, P = 16 and a lease of 10 s', () => {
  it('writes a table of 16 partitions, all its own, valid for 10 s by its clock, for a runtime alone', async () => {
    const at = 1_700_000_000_000;
    engine = await startTestEngine({ agents: [agent('worker', ['work'], { a: () => ({}) })], runtime: { now: () => at } });
    // A runtime hosting no named definitions leases the one table `*`.
    const { table } = await readTable(engine.store, partitionTableStream('*'));
    expect(table?.partitions).toBe(16);
    expect(table?.owners).toEqual(new Array(16).fill(engine.runtime.runtimeId));
    expect(table?.members[engine.runtime.runtimeId]?.until).toBe(at + 10_000);
  });
});

describe('docs/scaling.md: "acts only while now < expiry - margin (TTL/10); others claim only after expiry + grace (TTL/5)"', () => {
  it('drives its workflows until 1 s before its expiry, and is not claimed from until 2 s after it', async () => {
    store = await openStore('memory:');
    const clock = { now: 0 };
    const leases = new PartitionLeases({
      store, log: pino({ level: 'silent' }), runtimeId: 'a', tableKeys: ['trade@1'], partitions: 16, ttlMs: 10_000, guest: false,
      now: () => clock.now, changed: () => undefined,
    });
    await leases.renew();
    expect(leases.drives('trade@1', 'wf-1')).toBe(true);
    clock.now = 10_000 - 1_000 - 1;
    expect(leases.drives('trade@1', 'wf-1')).toBe(true);
    clock.now = 10_000 - 1_000;
    expect(leases.drives('trade@1', 'wf-1')).toBe(false);
    // Still its partitions in the table: follows them, does not act on them.
    expect(leases.follows('trade@1', 'wf-1')).toBe(true);

    // Another member, on the same clock, finds a's partitions a's until its expiry plus 2 s, then takes them all.
    const ownedByB = new Set<number>();
    const b = new PartitionLeases({
      store, log: pino({ level: 'silent' }), runtimeId: 'b', tableKeys: ['trade@1'], partitions: 16, ttlMs: 10_000, guest: false,
      now: () => clock.now, changed: (_key, gained, lost) => {
        for (const partition of gained) ownedByB.add(partition);
        for (const partition of lost) ownedByB.delete(partition);
      },
    });
    clock.now = 10_000 + 2_000 - 1;
    await b.renew();
    expect(ownedByB.size).toBe(0);
    clock.now = 10_000 + 2_000;
    await b.renew();
    expect(ownedByB.size).toBe(16);
    const { table } = await readTable(store, partitionTableStream('trade@1'));
    expect(Object.keys(table!.members)).toEqual(['b']);
  });
});

describe('docs/scaling.md: "The cache is per process, keyed by hash, bounded (1,000 definitions)"', () => {
  it('keeps the last 1,000 definitions it met, and loads an older one from the store again', async () => {
    store = await openStore('memory:');
    const hashes: string[] = [];
    for (let i = 0; i < 1_001; i++) {
      const definition = workflow(`bounded-${i}`).step({ id: 'a', action: 'a', capability: 'work' }).build();
      const hash = definitionHash(definition);
      await saveDefinition(store, definition, hash);
      hashes.push(hash);
    }
    // The first one met has made room for the 1,001st; the other 1,000 are in memory.
    expect(knownDefinition(hashes[0]!)).toBeUndefined();
    expect(hashes.slice(1).filter((hash) => knownDefinition(hash) === undefined)).toEqual([]);
    expect((await loadDefinition(store, hashes[0]!)).name).toBe('bounded-0');
    expect(knownDefinition(hashes[0]!)?.name).toBe('bounded-0');
    expect(knownDefinition(hashes[1]!)).toBeUndefined();
  });
});

describe('docs/scaling.md: "Renewal, every TTL/3"', () => {
  it('appends its table again each time a third of the lease has passed, not before', async () => {
    store = await openStore('memory:');
    const leases = new PartitionLeases({
      store, log: pino({ level: 'silent' }), runtimeId: 'a', tableKeys: ['trade@1'], partitions: 16, ttlMs: 9_000, guest: false,
      now: Date.now, changed: () => undefined,
    });
    const revision = async () => (await readTable(store!, partitionTableStream('trade@1'))).revision;
    await leases.renew();
    expect(await revision()).toBe(0n);
    // Only the renewal interval runs on the test's clock; the store's own timers stay real.
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    const renewals = vi.spyOn(leases, 'renew');
    leases.renewEvery();
    await vi.advanceTimersByTimeAsync(3_000 - 1);
    expect(renewals).toHaveBeenCalledTimes(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(renewals).toHaveBeenCalledTimes(1);
    await waitFor(async () => (await revision()) === 1n, { what: 'the renewal a third of the lease after the last to be stored' });
    await vi.advanceTimersByTimeAsync(3_000 - 1);
    expect(renewals).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(renewals).toHaveBeenCalledTimes(2);
    await waitFor(async () => (await revision()) === 2n, { what: 'the next renewal to be stored' });
    await leases.leave();
  });
});

describe('docs/scaling.md: the in-flight index, written "every 5 s while live (when something changed)"', () => {
  it('writes its checkpoints 5 s apart, and not again while nothing changed', async () => {
    store = await openStore('memory:');
    const base = store;
    // The index appends as the runtime makes them (counted when asked for, before the store answers).
    let indexAppends = 0;
    const counted = new Proxy(base, {
      get: (target, property, receiver) => {
        if (property === 'append') {
          return (...args: Parameters<EventStore['append']>) => {
            if (args[0].startsWith(IN_FLIGHT_INDEX_PREFIX)) indexAppends++;
            return base.append(...args);
          };
        }
        const value = Reflect.get(target, property, receiver) as unknown;
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
    // A log with history, so that the runtime has a position to write once caught up.
    await populate(base, { workflows: 2, seed: 3 });
    const release = deferred<void>();
    // Only intervals run on the test's clock (the index's and the leases'); the store's timers stay real.
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    engine = await startTestEngine({ store: counted, agents: [agent('worker', ['work'], { hold: async () => (await release.promise, {}) })] });
    const held = workflowOf('held').step({ id: 'a', action: 'hold', capability: 'work' }).build();
    await engine.runtime.startWorkflow(held, {}, { workflowId: 'held-1' });
    const settle = async () => {
      for (let turn = 0; turn < 20; turn++) await new Promise((resolve) => setImmediate(resolve));
    };
    // A write is a checkpoint per partition held: 16, all of them, for a runtime alone.
    await waitFor(() => indexAppends === 16, { what: 'the index of every partition written once the runtime went live' });
    await vi.advanceTimersByTimeAsync(5_000 - 1);
    await settle();
    expect(indexAppends).toBe(16);
    await vi.advanceTimersByTimeAsync(1);
    await waitFor(() => indexAppends === 32, { what: 'the index written again 5 s later' });
    // Nothing changed: the next interval writes nothing.
    await vi.advanceTimersByTimeAsync(5_000);
    await settle();
    expect(indexAppends).toBe(32);
    // The workflow ends: the next interval writes the change (its partition's checkpoint, at least).
    release.resolve();
    await engine.runtime.waitForEnd('held-1');
    await settle();
    expect(indexAppends).toBe(32);
    await vi.advanceTimersByTimeAsync(5_000);
    await waitFor(() => indexAppends > 32, { what: 'the index written after the workflow ended' });
  });
});
