import { afterEach, describe, expect, it, vi } from 'vitest';
import { agentStream } from '../../src/agents/events.js';
import { inProcessTransport } from '../../src/agents/in-process-transport.js';
import type { AgentRegistry } from '../../src/agents/registry.js';
import type { EventStore, RecordedEvent } from '../../src/store/port.js';
import { ManualClock, memoryStore, openRegistry } from './support.js';

const noop = inProcessTransport({ work: async () => 'done' });

async function readAll(store: EventStore, stream: string): Promise<RecordedEvent[]> {
  const events: RecordedEvent[] = [];
  for await (const event of store.readStream(stream)) events.push(event);
  return events;
}

function failTimes(registry: AgentRegistry, agentId: string, times: number): void {
  for (let i = 0; i < times; i += 1) {
    expect(registry.admit(agentId).allowed).toBe(true);
    registry.recordOutcome(agentId, 'failure');
  }
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

async function setup(): Promise<{ store: EventStore; clock: ManualClock; a: AgentRegistry; b: AgentRegistry }> {
  const store = await memoryStore();
  const clock = new ManualClock();
  const a = await openRegistry(store, clock);
  const b = await openRegistry(store, clock);
  cleanups.push(async () => {
    await a.close();
    await b.close();
    await store.close();
  });
  return { store, clock, a, b };
}

describe('agent registry', () => {
  it('records registration as an event and another registry instance sees the agent', async () => {
    const { store, a, b } = await setup();
    const record = await a.register({ id: 'quant', capabilities: ['analysis', 'pricing'], weight: 2, maxConcurrency: 4, transport: noop });
    expect(record).toMatchObject({ registered: true, capabilities: ['analysis', 'pricing'], weight: 2, maxConcurrency: 4 });
    const events = await readAll(store, agentStream('quant'));
    expect(events.map((event) => event.type)).toEqual(['AgentRegistered']);
    await vi.waitFor(() => expect(b.get('quant')?.registered).toBe(true), { timeout: 5000 });
    expect(b.get('quant')?.capabilities).toEqual(['analysis', 'pricing']);
  });

  it('does not append again when the same registration is repeated', async () => {
    const { store, a } = await setup();
    await a.register({ id: 'quant', capabilities: ['analysis'], transport: noop });
    await a.register({ id: 'quant', capabilities: ['analysis'], transport: noop });
    await a.register({ id: 'quant', capabilities: ['analysis', 'risk'], transport: noop });
    const events = await readAll(store, agentStream('quant'));
    expect(events.map((event) => event.type)).toEqual(['AgentRegistered', 'AgentRegistered']);
  });

  it('a registry opened later folds the history; deregistered agents are not candidates', async () => {
    const { store, clock, a } = await setup();
    await a.register({ id: 'one', capabilities: ['x'], transport: noop });
    await a.register({ id: 'two', capabilities: ['x'], transport: noop });
    await a.deregister('two');
    const late = await openRegistry(store, clock);
    cleanups.push(() => late.close());
    expect(late.agents().map((agent) => agent.id)).toEqual(['one']);
    expect(late.get('two')?.registered).toBe(false);
    expect(a.candidates('x')).toEqual(['one']);
  });

  it('rejects an invalid definition naming the field, and writes nothing', async () => {
    const { store, a } = await setup();
    await expect(a.register({ id: 'bad', capabilities: [], transport: noop })).rejects.toThrow(/capabilities/);
    await expect(readAll(store, agentStream('bad'))).rejects.toThrow(/not found/);
  });

  it('stores circuit transitions and a second process respects them, cool-down deadline included', async () => {
    const { store, clock, a, b } = await setup();
    await a.register({ id: 'flaky', capabilities: ['x'], transport: noop });
    await vi.waitFor(() => expect(b.get('flaky')?.registered).toBe(true), { timeout: 5000 });
    b.attachTransport('flaky', noop); // B can reach the same agent
    const seenByB: string[] = [];
    b.changes$.subscribe((record) => seenByB.push(record.circuit.status));

    failTimes(a, 'flaky', 2);
    expect(a.circuit('flaky')?.status).toBe('open');
    await a.flush();
    const opened = (await readAll(store, agentStream('flaky'))).at(-1);
    expect(opened?.type).toBe('AgentCircuitOpened');
    expect(opened?.data).toMatchObject({ agentId: 'flaky', reopenAt: clock.time + 10_000 });

    // Process B never saw a failure, yet refuses calls once it has seen the event.
    await vi.waitFor(() => expect(b.circuit('flaky')?.status).toBe('open'), { timeout: 5000 });
    expect(b.admit('flaky').allowed).toBe(false);
    expect(b.candidates('x')).toEqual([]);
    expect(b.candidates('x', { includeUnavailable: true })).toEqual(['flaky']);
    expect(b.nextReopenAt('x')).toBe(clock.time + 10_000);
    expect(seenByB).toContain('open');

    // After the cool-down B lets one probe through and records half-open; its success closes it.
    clock.advance(10_000);
    expect(b.candidates('x')).toEqual(['flaky']);
    expect(b.admit('flaky').allowed).toBe(true);
    expect(b.admit('flaky').allowed).toBe(false); // one probe at a time
    b.recordOutcome('flaky', 'success');
    await b.flush();
    const types = (await readAll(store, agentStream('flaky'))).map((event) => event.type);
    expect(types).toEqual(['AgentRegistered', 'AgentCircuitOpened', 'AgentCircuitHalfOpened', 'AgentCircuitClosed']);
    await vi.waitFor(() => expect(a.circuit('flaky')?.status).toBe('closed'), { timeout: 5000 });
  });

  it('on a conflict recognises a transition another process already recorded', async () => {
    const { store, a, b } = await setup();
    await a.register({ id: 'flaky', capabilities: ['x'], transport: noop });
    await vi.waitFor(() => expect(b.get('flaky')?.registered).toBe(true), { timeout: 5000 });
    // Both processes see the agent fail at the same time, before either sees the other's event.
    failTimes(a, 'flaky', 2);
    failTimes(b, 'flaky', 2);
    await Promise.all([a.flush(), b.flush()]);
    const types = (await readAll(store, agentStream('flaky'))).map((event) => event.type);
    expect(types).toEqual(['AgentRegistered', 'AgentCircuitOpened']);
    expect(a.circuit('flaky')?.status).toBe('open');
    expect(b.circuit('flaky')?.status).toBe('open');
  });

  it('on a conflict with an unrelated write, reloads and records its transition at the new revision', async () => {
    const { store, a, b } = await setup();
    await a.register({ id: 'flaky', capabilities: ['x'], transport: noop });
    await vi.waitFor(() => expect(b.get('flaky')?.registered).toBe(true), { timeout: 5000 });
    // A re-registers while B opens the circuit: both decided from revision 0, one of them conflicts.
    const registering = a.register({ id: 'flaky', capabilities: ['x', 'y'], transport: noop });
    failTimes(b, 'flaky', 2);
    await Promise.all([registering, b.flush()]);
    const types = (await readAll(store, agentStream('flaky'))).map((event) => event.type);
    expect(types.slice(1).sort()).toEqual(['AgentCircuitOpened', 'AgentRegistered']);
    await vi.waitFor(() => expect(a.circuit('flaky')?.status).toBe('open'), { timeout: 5000 });
    await vi.waitFor(() => expect(b.get('flaky')?.capabilities).toEqual(['x', 'y']), { timeout: 5000 });
  });

  it('reopens on a failed probe and the new deadline reaches the other process', async () => {
    const { clock, a, b } = await setup();
    await a.register({ id: 'flaky', capabilities: ['x'], transport: noop });
    failTimes(a, 'flaky', 2);
    clock.advance(10_000);
    expect(a.admit('flaky').allowed).toBe(true);
    a.recordOutcome('flaky', 'failure');
    await a.flush();
    const reopenAt = clock.time + 10_000;
    expect(a.circuit('flaky')).toMatchObject({ status: 'open', reopenAt });
    await vi.waitFor(() => expect(b.circuit('flaky')).toMatchObject({ status: 'open', reopenAt }), { timeout: 5000 });
  });

  it('orders candidates healthiest first, then least loaded, then by weight', async () => {
    const { a } = await setup();
    await a.register({ id: 'light', capabilities: ['x'], weight: 1, transport: noop });
    await a.register({ id: 'heavy', capabilities: ['x'], weight: 5, transport: noop });
    await a.register({ id: 'busy', capabilities: ['x'], weight: 9, maxConcurrency: 2, transport: noop });
    await a.register({ id: 'shaky', capabilities: ['x'], weight: 9, transport: noop });
    await a.register({ id: 'other', capabilities: ['y'], transport: noop });

    a.stats.started('busy'); // 1 of 2 slots in use: load 0.5
    failTimes(a, 'shaky', 1); // closed, but failing
    expect(a.candidates('x')).toEqual(['heavy', 'light', 'busy', 'shaky']);

    a.stats.finished('busy', true, 1);
    expect(a.candidates('x')).toEqual(['busy', 'heavy', 'light', 'shaky']);
    expect(a.candidates('nobody')).toEqual([]);
  });

  it('lists agents without a local transport only when asked', async () => {
    const { a, b } = await setup();
    await a.register({ id: 'remote', capabilities: ['x'], transport: noop });
    await vi.waitFor(() => expect(b.get('remote')?.registered).toBe(true), { timeout: 5000 });
    expect(b.candidates('x')).toEqual([]);
    expect(b.candidates('x', { includeRemote: true })).toEqual(['remote']);
    expect(b.isCallable('remote')).toBe(false);
    b.attachTransport('remote', noop);
    expect(b.candidates('x')).toEqual(['remote']);
  });
});

/** The store, except that the first `$all` subscription breaks right after catching up. */
function breakingFirstSubscription(store: EventStore): EventStore {
  let broken = false;
  return new Proxy(store, {
    get(target, property) {
      if (property === 'subscribeToAll') {
        return (options: Parameters<EventStore['subscribeToAll']>[0]) => {
          const inner = target.subscribeToAll(options);
          if (broken) return inner;
          broken = true;
          return {
            unsubscribe: () => inner.unsubscribe(),
            async *[Symbol.asyncIterator]() {
              for await (const message of inner) {
                yield message;
                if (message.kind === 'caughtUp') {
                  await inner.unsubscribe();
                  throw new Error('connection lost');
                }
              }
            },
          };
        };
      }
      const value: unknown = Reflect.get(target, property);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

describe('agent registry subscription', () => {
  it('resumes after the subscription fails, from where it was', async () => {
    const { store, clock, a } = await setup();
    await a.register({ id: 'before', capabilities: ['x'], transport: noop });
    const follower = await openRegistry(breakingFirstSubscription(store), clock);
    cleanups.push(() => follower.close());
    expect(follower.get('before')?.registered).toBe(true);
    await a.register({ id: 'after', capabilities: ['x'], transport: noop });
    await vi.waitFor(() => expect(follower.get('after')?.registered).toBe(true), { timeout: 10_000 });
    expect(follower.agents().map((agent) => agent.id)).toEqual(['after', 'before']);
  });
});
