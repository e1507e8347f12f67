/**
 * Opening a registry costs the agents, not the log: it reads the head's position, the directory of
 * agents and their streams by name, then follows from the head. Counted through the store port (no
 * timing). What other registries write before, during and after an open is never lost; a store
 * written before the directory is scanned once and gets one.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AGENT_DIRECTORY_STREAM, listAgent, readAgentDirectory } from '../../src/agents/agent-directory.js';
import { type AgentEvent, agentStream, toEventData } from '../../src/agents/events.js';
import { inProcessTransport } from '../../src/agents/in-process-transport.js';
import type { AgentRegistry } from '../../src/agents/registry.js';
import { openEsdbStore } from '../../src/store/esdb.js';
import { openStore } from '../../src/store/open.js';
import type { EventStore, Position } from '../../src/store/port.js';
import { startEmbedded } from '../esdb/support.js';
import { CountingStore } from '../support/counting-store.js';
import { waitFor } from '../support/wait-for.js';
import { ManualClock, memoryStore, openRegistry } from './support.js';

const noop = inProcessTransport({ work: async () => 'done' });
const AT = 1_700_000_000_000;

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

async function storeForTest(): Promise<EventStore> {
  const store = await memoryStore();
  cleanups.push(() => store.close());
  return store;
}

async function opened(store: EventStore, clock = new ManualClock()): Promise<AgentRegistry> {
  const registry = await openRegistry(store, clock);
  cleanups.push(() => registry.close());
  return registry;
}

/** Completed workflows' worth of events the registry has no business reading. */
async function addHistory(store: EventStore, workflows: number, eventsEach = 10): Promise<void> {
  for (let w = 0; w < workflows; w++) {
    const events = Array.from({ length: eventsEach }, (_, i) => ({ id: randomUUID(), type: 'StepSucceeded', data: { step: i } }));
    await store.append(`workflow-${randomUUID()}`, events, { expectedRevision: 'no_stream' });
  }
}

/** An agent event appended straight to its stream, as a process that keeps no directory writes it. */
async function appendUnlisted(store: EventStore, event: AgentEvent): Promise<void> {
  await store.append(agentStream(event.data.agentId), [toEventData(event, randomUUID())]);
}

async function count(events: AsyncIterable<unknown>): Promise<number> {
  let n = 0;
  for await (const _event of events) n++;
  return n;
}

async function agentEventCount(store: EventStore, ids: readonly string[]): Promise<number> {
  const counts = await Promise.all(ids.map((id) => count(store.readStream(agentStream(id)))));
  return counts.reduce((a, b) => a + b, 0);
}

/** What a registry knows of each agent, as stored (revision, registration, circuit). */
function views(registry: AgentRegistry, ids: readonly string[]) {
  return ids.map((id) => {
    const record = registry.get(id);
    return record && { id, registered: record.registered, capabilities: record.capabilities, weight: record.weight, circuit: record.circuit.status, revision: record.revision };
  });
}

/** Opens a registry through a counting port; returns it with what it read and where its subscription began. */
async function openCounted(store: EventStore, beforeRead?: (stream: string) => Promise<void>) {
  const counting = new CountingStore(store, beforeRead);
  const registry = await opened(counting.port());
  const readAtOpen = counting.events;
  expect(counting.subscribedFrom).toHaveLength(1);
  return { registry, readAtOpen, from: counting.subscribedFrom[0] as 'start' | Position };
}

describe('opening the agent registry', () => {
  it('reads the directory and the agent streams, then follows from the head: never the workflow history', async () => {
    const store = await storeForTest();
    const clock = new ManualClock();
    const first = await opened(store, clock);
    // Agent events spread through a long log, so a scan would have to visit all of it.
    await first.register({ id: 'quant', capabilities: ['analysis'], transport: noop });
    await addHistory(store, 150);
    await first.register({ id: 'risk', capabilities: ['risk'], weight: 2, transport: noop });
    await first.register({ id: 'gone', capabilities: ['misc'], transport: noop });
    await addHistory(store, 150);
    for (let i = 0; i < 2; i++) {
      expect(first.admit('risk').allowed).toBe(true);
      first.recordOutcome('risk', 'failure');
    }
    await first.deregister('gone');
    await first.flush();
    await addHistory(store, 150);
    const ids = ['gone', 'quant', 'risk'];
    expect(await readAgentDirectory(store)).toEqual(expect.arrayContaining(ids));

    const total = await count(store.readAll());
    const { registry, readAtOpen, from } = await openCounted(store);
    // The head (one event), the directory, every agent event: nothing else.
    const directory = await count(store.readStream(AGENT_DIRECTORY_STREAM));
    expect(readAtOpen).toBeLessThanOrEqual(1 + directory + (await agentEventCount(store, ids)));
    expect(readAtOpen).toBeLessThan(total / 100);
    // Its subscription starts at the head: the log after it, which the store visits, is empty.
    expect(from).not.toBe('start');
    expect(await count(store.readAll({ fromPosition: from }))).toBe(0);

    expect(views(registry, ids)).toEqual(views(first, ids));
    expect(registry.agents().map((agent) => agent.id)).toEqual(['quant', 'risk']);
    expect(registry.circuit('risk')?.status).toBe('open');
  });

  it('scans a store written before the directory once, creates the directory, and opens from it afterwards', async () => {
    const store = await storeForTest();
    await appendUnlisted(store, { type: 'AgentRegistered', data: { v: 1, agentId: 'legacy-1', capabilities: ['a'], weight: 1, at: AT } });
    await addHistory(store, 100);
    await appendUnlisted(store, { type: 'AgentRegistered', data: { v: 1, agentId: 'legacy-2', capabilities: ['b'], weight: 1, at: AT } });
    await appendUnlisted(store, { type: 'AgentDeregistered', data: { v: 1, agentId: 'legacy-2', at: AT } });
    await addHistory(store, 100);
    expect(await readAgentDirectory(store)).toBeUndefined();

    const scanning = await openCounted(store);
    expect(scanning.from).toBe('start');
    expect(await readAgentDirectory(store)).toEqual(['legacy-1', 'legacy-2']);

    const { registry, readAtOpen, from } = await openCounted(store);
    expect(from).not.toBe('start');
    expect(readAtOpen).toBeLessThanOrEqual(1 + 1 + 3);
    const ids = ['legacy-1', 'legacy-2'];
    expect(views(registry, ids)).toEqual(views(scanning.registry, ids));
    expect(registry.agents().map((agent) => agent.id)).toEqual(['legacy-1']);
  });

  it('two registries on one store agree, live and with the next one to open, whoever wrote what', async () => {
    const store = await storeForTest();
    const clock = new ManualClock();
    const a = await opened(store, clock);
    const b = await opened(store, clock);
    await a.register({ id: 'x', capabilities: ['pricing'], transport: noop });
    await b.register({ id: 'y', capabilities: ['risk'], transport: noop });
    await waitFor(() => b.get('x')?.registered === true && a.get('y')?.registered === true, { what: 'each registry to see the other one registration' });
    await b.deregister('x');
    for (let i = 0; i < 2; i++) {
      expect(a.admit('y').allowed).toBe(true);
      a.recordOutcome('y', 'failure');
    }
    await a.flush();
    await addHistory(store, 20);
    const ids = ['x', 'y'];
    await waitFor(() => a.get('x')?.registered === false && b.circuit('y')?.status === 'open', { what: 'the deregistration and the open circuit to reach the other registry' });
    expect(views(a, ids)).toEqual(views(b, ids));

    const c = await opened(store, clock);
    expect(views(c, ids)).toEqual(views(a, ids));
    expect((await readAgentDirectory(store))?.sort()).toEqual(ids);
  });

  it('two stores on one SQLite file, as two processes: both open a file without a directory at once, then register at once; nothing is missed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cadenza-registry-'));
    cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
    const uri = `sqlite:${join(dir, 'store.db')}`;
    const [one, two] = await Promise.all([openStore(uri), openStore(uri)]);
    cleanups.push(() => one!.close(), () => two!.close());
    await appendUnlisted(one!, { type: 'AgentRegistered', data: { v: 1, agentId: 'legacy', capabilities: ['a'], weight: 1, at: AT } });
    await addHistory(one!, 50);

    // Both scan and race to create the directory; then both register agents, interleaved.
    const [a, b] = await Promise.all([opened(one!), opened(two!)]);
    const ids = (side: string) => Array.from({ length: 10 }, (_, i) => `${side}-${i}`);
    await Promise.all([
      (async () => { for (const id of ids('a')) await a.register({ id, capabilities: ['x'], transport: noop }); })(),
      (async () => { for (const id of ids('b')) await b.register({ id, capabilities: ['y'], transport: noop }); })(),
    ]);
    const all = ['legacy', ...ids('a'), ...ids('b')].sort();
    expect((await readAgentDirectory(one!))?.sort()).toEqual(all);
    const registered = (registry: AgentRegistry) => registry.agents().map((agent) => agent.id);
    await waitFor(() => registered(a).length === all.length && registered(b).length === all.length, { what: 'both registries to see every agent' });

    // A third, from the directory, agrees with both.
    const { registry: c, from } = await openCounted(one!);
    expect(from).not.toBe('start');
    expect(registered(c)).toEqual(all);
    expect(views(c, all)).toEqual(views(a, all));
    expect(views(c, all)).toEqual(views(b, all));
  });

  for (const moment of ['after it read the head', 'after it read the directory'] as const) {
    it(`loses nothing another registry writes while it opens (${moment})`, async () => {
      const store = await storeForTest();
      const other = await opened(store);
      await other.register({ id: 'early', capabilities: ['a'], transport: noop });
      await addHistory(store, 50);
      // The directory is read right after the head; the agent streams right after the directory.
      const stream = moment === 'after it read the head' ? AGENT_DIRECTORY_STREAM : agentStream('early');
      let acted = false;
      const { registry } = await openCounted(store, async (read) => {
        if (read !== stream || acted) return;
        acted = true;
        await other.register({ id: 'late', capabilities: ['b'], transport: noop });
        await other.deregister('early');
      });
      expect(acted).toBe(true);
      // Caught up means caught up: no waiting for either.
      expect(registry.get('late')?.registered).toBe(true);
      expect(registry.get('early')?.registered).toBe(false);
      expect(views(registry, ['early', 'late'])).toEqual(views(other, ['early', 'late']));
    });
  }

  it('takes an agent listed but never written for none, and reads one written without a listing at its next event', async () => {
    const store = await storeForTest();
    const first = await opened(store);
    await first.register({ id: 'real', capabilities: ['a'], transport: noop });
    // A crash between listing an agent and writing its first event.
    expect(await listAgent(store, 'ghost')).toBe(true);
    // A process that keeps no directory registers an agent.
    await appendUnlisted(store, { type: 'AgentRegistered', data: { v: 1, agentId: 'unlisted', capabilities: ['c'], weight: 3, at: AT } });

    const registry = await opened(store);
    expect(registry.agents().map((agent) => agent.id)).toEqual(['real']);
    expect(registry.get('ghost')).toBeUndefined();

    // Its next event shows a gap: the registry reads the stream whole instead of folding half of it.
    await appendUnlisted(store, { type: 'AgentCircuitOpened', data: { v: 1, agentId: 'unlisted', at: AT, reopenAt: AT + 60_000, reason: 'test' } });
    await waitFor(() => registry.get('unlisted')?.revision === 1n, { what: 'the unlisted agent to be read whole' });
    expect(registry.get('unlisted')).toMatchObject({ registered: true, capabilities: ['c'], weight: 3, circuit: { status: 'open' } });
  });

  it('opens from the directory on the EventStoreDB path (real client, embedded server)', async () => {
    const embedded = await startEmbedded();
    cleanups.push(() => embedded.stop());
    const store = await openEsdbStore(embedded.connectionString);
    cleanups.push(() => store.close());
    const first = await opened(store);
    await first.register({ id: 'quant', capabilities: ['analysis'], transport: noop });
    await addHistory(store, 100);

    const total = await count(store.readAll());
    const { registry, readAtOpen, from } = await openCounted(store);
    expect(from).not.toBe('start');
    // The head, the directory (created empty by the first open, then the listing), the one agent event.
    expect(readAtOpen).toBeLessThanOrEqual(1 + 2 + 1);
    expect(readAtOpen).toBeLessThan(total / 100);
    expect(registry.get('quant')?.registered).toBe(true);

    await first.register({ id: 'later', capabilities: ['risk'], transport: noop });
    await waitFor(() => registry.get('later')?.registered === true, { what: 'a registration after the open to arrive live' });
  });
});
