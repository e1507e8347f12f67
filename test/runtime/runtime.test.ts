import { afterEach, describe, expect, it } from 'vitest';
import { AgentFailure, type ActionHandler } from '../../src/agents/index.js';
import { CommandRejectedError } from '../../src/saga/triggers.js';
import { WorkflowNotFoundError, fromRecorded } from '../../src/saga/runtime/index.js';
import { correlationIdOf } from '../../src/saga/stream/index.js';
import { workflow } from '../../src/workflow/index.js';
import { forkWorkflow } from '../../src/operations/fork.js';
import { tradingPipeline } from '../../sagas/trading/definition.js';
import { createTradingAgents } from '../../sagas/trading/agents.js';
import { waitFor } from '../support/wait-for.js';
import { agent, dataOf, deferred, expectTradeRolledBack, historyOf, startTestEngine, tradingAgentsThatFailPostTrade, type TestEngine } from './support.js';
import type { JsonObject } from '../../src/store/port.js';

const fast = { maxAttempts: 3, initialDelayMs: 20, multiplier: 2, maxDelayMs: 200, jitter: 0 };

let engine: TestEngine | undefined;
afterEach(async () => {
  await engine?.stop();
  engine = undefined;
});

describe('scheduling', () => {
  it('runs independent steps in parallel and a dependent step only after all its dependencies', async () => {
    // b and c each wait until the other has started: the workflow can only finish if they overlap.
    const bStarted = deferred();
    const cStarted = deferred();
    const log: string[] = [];
    const handlers: Record<string, ActionHandler> = {
      a: () => {
        log.push('a');
        return { value: 1 };
      },
      b: async () => {
        log.push('b:start');
        bStarted.resolve();
        await cStarted.promise;
        log.push('b:end');
        return { value: 2 };
      },
      c: async () => {
        log.push('c:start');
        cStarted.resolve();
        await bStarted.promise;
        log.push('c:end');
        return { value: 3 };
      },
      d: (input) => {
        log.push('d');
        return { sum: input };
      },
    };
    engine = await startTestEngine({ agents: [agent('worker', ['work'], handlers)] });
    const diamond = workflow('diamond')
      .step({ id: 'a', action: 'a', capability: 'work', output: { a: '$' }, retry: fast, timeoutMs: 5_000 })
      .step({ id: 'b', action: 'b', capability: 'work', dependsOn: ['a'], output: { b: '$' }, retry: fast, timeoutMs: 5_000 })
      .step({ id: 'c', action: 'c', capability: 'work', dependsOn: ['a'], output: { c: '$' }, retry: fast, timeoutMs: 5_000 })
      .step({ id: 'd', action: 'd', capability: 'work', dependsOn: ['b', 'c'], input: { b: 'b.value', c: 'c.value' }, retry: fast, timeoutMs: 5_000 })
      .build();
    const { workflowId } = await engine.runtime.startWorkflow(diamond, {});
    const end = await engine.runtime.waitForEnd(workflowId);

    expect(end.status).toBe('completed');
    expect(log[0]).toBe('a');
    expect(log.indexOf('d')).toBe(log.length - 1);
    expect(log.indexOf('b:start')).toBeLessThan(log.indexOf('c:end'));
    expect(log.indexOf('c:start')).toBeLessThan(log.indexOf('b:end'));
    // b and c were scheduled in one decision (one append), as soon as a succeeded.
    const events = await historyOf(engine.store, workflowId);
    const aSucceeded = events.find((e) => e.type === 'StepSucceeded' && dataOf(e).stepId === 'a');
    const scheduledAfterA = events.filter((e) => e.type === 'StepScheduled' && (dataOf(e).stepId === 'b' || dataOf(e).stepId === 'c'));
    expect(scheduledAfterA.map((e) => e.revision)).toEqual([aSucceeded!.revision + 1n, aSucceeded!.revision + 2n]);
    expect(scheduledAfterA.every((e) => e.position.commit > aSucceeded!.position.commit)).toBe(true);
    // d received its dependencies' outputs through the mapping.
    const dScheduled = events.find((e) => e.type === 'StepScheduled' && dataOf(e).stepId === 'd');
    expect(dataOf(dScheduled!).input).toEqual({ b: 2, c: 3 });
  });

  it('stamps every event with its correlation and causation, and nothing the stream name or the data already say', async () => {
    engine = await startTestEngine({ agents: [agent('worker', ['work'], { a: () => ({ ok: true }) })] });
    const one = workflow('one').step({ id: 'a', action: 'a', capability: 'work', retry: fast }).build();
    const { workflowId } = await engine.runtime.startWorkflow(one, {}, { correlationId: 'order-42' });
    await engine.runtime.waitForEnd(workflowId);
    const events = await historyOf(engine.store, workflowId);
    expect(events.map((e) => e.type)).toEqual(['WorkflowStarted', 'StepScheduled', 'StepSucceeded', 'WorkflowCompleted']);
    expect(dataOf(events[0]!).definitionHash).toMatch(/^sha256:[0-9a-f]{64}$/);
    for (const event of events) {
      // The workflow id is the stream's (and the data's), the definition hash WorkflowStarted's.
      expect(Object.keys(event.metadata).sort()).toEqual(event.type === 'WorkflowStarted' ? ['causationId', 'correlationId', 'schemaVersion'] : ['causationId', 'correlationId']);
      expect((event.metadata as JsonObject).correlationId).toBe('order-42');
    }
    // The result's cause is the StepScheduled it answers.
    expect((events[2]!.metadata as JsonObject).causationId).toBe(events[1]!.id);
  });

  it('leaves the correlation id out when it is the workflow id, and readers fall back to it (events.md, "Metadata")', async () => {
    engine = await startTestEngine({ agents: [agent('worker', ['work'], { a: () => ({ ok: true }) })] });
    const one = workflow('one').step({ id: 'a', action: 'a', capability: 'work', retry: fast }).build();
    const { workflowId } = await engine.runtime.startWorkflow(one, {});
    await engine.runtime.waitForEnd(workflowId);
    const events = await historyOf(engine.store, workflowId);
    expect(events.map((e) => Object.keys(e.metadata).sort())).toEqual(events.map((e) => (e.type === 'WorkflowStarted' ? ['causationId', 'schemaVersion'] : ['causationId'])));
    expect(events.map(correlationIdOf)).toEqual(events.map(() => workflowId));
  });
});

describe('retries, failover and timeouts', () => {
  it('retries a failing agent with backoff on the next candidate agent', async () => {
    const calls: string[] = [];
    const flaky = agent('flaky', ['quote'], {
      quote: () => {
        calls.push('flaky');
        throw new AgentFailure('upstream 503', 'unavailable', true);
      },
    }, { weight: 10 });
    const steady = agent('steady', ['quote'], {
      quote: () => {
        calls.push('steady');
        return { price: 101 };
      },
    }, { weight: 1 });
    engine = await startTestEngine({ agents: [flaky, steady] });
    const def = workflow('quote').step({ id: 'quote', action: 'quote', capability: 'quote', output: { price: 'price' }, retry: { ...fast, initialDelayMs: 50 } }).build();
    const { workflowId } = await engine.runtime.startWorkflow(def, {});
    const end = await engine.runtime.waitForEnd(workflowId);

    expect(end.status).toBe('completed');
    expect(calls).toEqual(['flaky', 'steady']);
    const events = await historyOf(engine.store, workflowId);
    const failed = events.find((e) => e.type === 'StepFailed')!;
    const retry = events.find((e) => e.type === 'StepRetryScheduled')!;
    const second = events.filter((e) => e.type === 'StepScheduled')[1]!;
    expect(dataOf(failed)).toMatchObject({ attempt: 1, agentId: 'flaky', error: { code: 'unavailable', retryable: true } });
    expect(dataOf(retry)).toMatchObject({ nextAttempt: 2, delayMs: 50 });
    expect(dataOf(retry).notBefore).toBe((dataOf(retry).at as number) + 50);
    // The second attempt was not scheduled before its not-before time.
    // The operation's own key is not stored (it follows from the data) and is read back.
    expect(dataOf(second)).not.toHaveProperty('idempotencyKey');
    expect(fromRecorded(second).data).toMatchObject({ attempt: 2, agentId: 'steady', idempotencyKey: `${workflowId}:quote` });
    expect(dataOf(second).at as number).toBeGreaterThanOrEqual(dataOf(retry).notBefore as number);
  });

  it('times out a hanging agent and retries on another', async () => {
    const hanging = agent('hanging', ['slow'], {
      work: (_input, ctx) => new Promise((resolve) => ctx.signal.addEventListener('abort', () => resolve({ late: true }))),
    }, { weight: 10 });
    const quick = agent('quick', ['slow'], { work: () => ({ done: true }) }, { weight: 1 });
    engine = await startTestEngine({ agents: [hanging, quick] });
    const def = workflow('hang').step({ id: 'work', action: 'work', capability: 'slow', timeoutMs: 150, retry: fast }).build();
    const { workflowId } = await engine.runtime.startWorkflow(def, {});
    const end = await engine.runtime.waitForEnd(workflowId);

    expect(end.status).toBe('completed');
    const events = await historyOf(engine.store, workflowId);
    const firstEnd = events.find((e) => (e.type === 'StepTimedOut' || e.type === 'StepFailed') && dataOf(e).attempt === 1)!;
    if (firstEnd.type === 'StepFailed') expect(dataOf(firstEnd).error).toMatchObject({ code: 'timeout' });
    else expect(dataOf(firstEnd)).toMatchObject({ agentId: 'hanging' });
    const succeeded = events.find((e) => e.type === 'StepSucceeded')!;
    expect(dataOf(succeeded)).toMatchObject({ attempt: 2, agentId: 'quick' });
  });
});

describe('circuit breaker', () => {
  it('opens after repeated failures, then closes again after the cool-down', async () => {
    let failuresLeft = 3;
    const shaky = agent('shaky', ['pay'], {
      pay: () => {
        if (failuresLeft-- > 0) throw new AgentFailure('card network down', 'unavailable', true);
        return { paid: true };
      },
    });
    engine = await startTestEngine({ agents: [shaky], circuitBreaker: { failureThreshold: 3, coolDownMs: 200, halfOpenMaxProbes: 1, successesToClose: 1 } });
    const def = workflow('pay').step({ id: 'pay', action: 'pay', capability: 'pay', retry: { maxAttempts: 10, initialDelayMs: 30, multiplier: 1.5, maxDelayMs: 150, jitter: 0 } }).build();
    const { workflowId } = await engine.runtime.startWorkflow(def, {});
    const end = await engine.runtime.waitForEnd(workflowId);
    expect(end.status).toBe('completed');
    await engine.registry.flush();

    const transitions: string[] = [];
    for await (const event of engine.store.readStream('agent-shaky')) transitions.push(event.type);
    const opened = transitions.indexOf('AgentCircuitOpened');
    expect(opened).toBeGreaterThanOrEqual(0);
    expect(transitions.indexOf('AgentCircuitHalfOpened')).toBeGreaterThan(opened);
    expect(transitions.lastIndexOf('AgentCircuitClosed')).toBeGreaterThan(transitions.indexOf('AgentCircuitHalfOpened'));
    expect(engine.registry.circuit('shaky')?.status).toBe('closed');
  });
});

describe('compensation', () => {
  it('rolls back a trade in reverse dependency order when a step fails after execution', async () => {
    const { agents, ledger } = tradingAgentsThatFailPostTrade();
    engine = await startTestEngine({ agents });
    await expectTradeRolledBack(engine, ledger);
  });

  it('cancel compensates a running workflow; senseless commands are refused and write nothing', async () => {
    const gate = deferred();
    engine = await startTestEngine({
      agents: [agent('worker', ['work'], { first: () => ({ id: 'r-1' }), undo: () => ({ undone: true }), second: async () => { await gate.promise; return {}; } })],
    });
    const def = workflow('cancellable')
      .step({ id: 'first', action: 'first', capability: 'work', retry: fast, compensation: { action: 'undo', input: { id: '$output.id' } } })
      .step({ id: 'second', action: 'second', capability: 'work', dependsOn: ['first'], retry: fast, timeoutMs: 500 })
      .build();
    const { workflowId } = await engine.runtime.startWorkflow(def, {});
    // Wait until the second step is running, then cancel.
    await waitFor(async () => {
      const state = await engine!.runtime.getState(workflowId);
      return state.status !== 'idle' && state.runningSteps > 0 && (await historyOf(engine!.store, workflowId)).some((e) => e.type === 'StepScheduled' && dataOf(e).stepId === 'second');
    }, { what: 'the second step to be scheduled and running' });
    await engine.runtime.cancel(workflowId, 'customer withdrew the order');
    gate.resolve();
    const end = await engine.runtime.waitForEnd(workflowId);
    expect(end.status).toBe('cancelled');
    const events = await historyOf(engine.store, workflowId);
    expect(events.some((e) => e.type === 'CompensationSucceeded' && dataOf(e).stepId === 'first')).toBe(true);
    expect(dataOf(events.find((e) => e.type === 'CompensationScheduled')!).input).toEqual({ id: 'r-1' });

    const before = events.length;
    await expect(engine.runtime.retry(workflowId)).rejects.toBeInstanceOf(CommandRejectedError);
    await expect(engine.runtime.cancel(workflowId)).rejects.toThrow(/Cannot cancel/);
    expect((await historyOf(engine.store, workflowId)).length).toBe(before);
    await expect(engine.runtime.compensate('no-such-workflow')).rejects.toBeInstanceOf(WorkflowNotFoundError);
  });

  it('refuses input the definition requires but did not get, and writes nothing', async () => {
    engine = await startTestEngine({ agents: createTradingAgents({ latencyMs: 0 }).agents });
    await expect(engine.runtime.startWorkflow(tradingPipeline, { symbol: 'ACME' }, { workflowId: 'bad-input' })).rejects.toThrow(/input is missing "side", "quantity", "account"/);
    await expect(historyOf(engine.store, 'bad-input')).rejects.toThrow(/not found/);
    await expect(engine.runtime.startWorkflow(tradingPipeline, {}, { workflowId: 'bad id!' })).rejects.toThrow(/Invalid workflow id/);

    // A second start of an existing workflow (ended, so no longer in memory) is refused and writes nothing.
    const input = { symbol: 'ACME', side: 'buy', quantity: 5, account: 'acct-1' };
    await engine.runtime.startWorkflow(tradingPipeline, input, { workflowId: 'once' });
    await engine.runtime.waitForEnd('once');
    const length = (await historyOf(engine.store, 'once')).length;
    await expect(engine.runtime.startWorkflow(tradingPipeline, input, { workflowId: 'once' })).rejects.toThrow(/already exists \(completed\)/);
    expect((await historyOf(engine.store, 'once')).length).toBe(length);
    expect(engine.runtime.stats().inFlight).toBe(0);
  });

  it('two runtimes starting the same workflow id at once: one start is stored, the other is refused', async () => {
    // A start is decided without reading the stream first (the append's "no stream" is the check),
    // so the runtime that loses must learn from the store that the workflow exists. (Agents that
    // never fail: the workflow's own fate is not what this test is about.)
    engine = await startTestEngine({ agents: createTradingAgents({ latencyMs: 0, failureRate: 0, rejectionRate: 0, postTradeFailureRate: 0 }).agents });
    const other = await startTestEngine({ agents: createTradingAgents({ latencyMs: 0, failureRate: 0, rejectionRate: 0, postTradeFailureRate: 0 }).agents, store: engine.store });
    try {
      const input = { symbol: 'ACME', side: 'buy', quantity: 5, account: 'acct-1' };
      const results = await Promise.allSettled([
        engine.runtime.startWorkflow(tradingPipeline, input, { workflowId: 'raced' }),
        other.runtime.startWorkflow(tradingPipeline, input, { workflowId: 'raced' }),
      ]);
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      const refused = results.find((r) => r.status === 'rejected');
      expect((refused as PromiseRejectedResult).reason).toBeInstanceOf(CommandRejectedError);
      expect(String((refused as PromiseRejectedResult).reason)).toMatch(/already exists/);
      const winner = results[0]?.status === 'fulfilled' ? engine : other;
      const loser = winner === engine ? other : engine;
      expect(loser.runtime.stats().conflicts).toBe(0);
      // Whichever runtime won runs the workflow to its end (both have the agents).
      expect((await winner.runtime.waitForEnd('raced')).status).toBe('completed');
      // A slot is held by a workflow a runtime drives while it runs, whoever started it: none is left.
      await waitFor(() => loser.runtime.stats().inFlight === 0 && winner.runtime.stats().inFlight === 0, { what: 'both runtimes to free the slot of the ended workflow' });
      expect((await historyOf(engine.store, 'raced')).filter((e) => e.type === 'WorkflowStarted')).toHaveLength(1);
    } finally {
      await other.stop();
    }
  });
});

describe('adopt', () => {
  it('makes the calls of a fork this process appended without a runtime, instead of waiting for their timeouts', async () => {
    const { agents, ledger } = createTradingAgents({ seed: 3, failureRate: 0, rejectionRate: 0, postTradeFailureRate: 0, latencyMs: 0 });
    engine = await startTestEngine({ agents });
    const { workflowId } = await engine.runtime.startWorkflow(tradingPipeline, { symbol: 'ACME', side: 'buy', quantity: 5, account: 'acct-1' });
    await engine.runtime.waitForEnd(workflowId);
    // Fork after market data: the two analyses are scheduled again in the fork's history.
    const plan = await forkWorkflow(engine.store, workflowId, 2n, { workflowId: 'adopted-fork' });
    expect(plan.scheduled).toEqual(['technical-analysis', 'sentiment-analysis']);
    const before = ledger.callsByKey.size;
    expect(await engine.runtime.adopt('adopted-fork')).toBe(2);
    const end = await engine.runtime.waitForEnd('adopted-fork');
    expect(end.status).toBe('completed');
    // The fork's first attempts were called (a timeout would have moved them to attempt 2).
    expect(ledger.callsByKey.get('adopted-fork:technical-analysis')).toBe(1);
    expect(ledger.callsByKey.get('adopted-fork:sentiment-analysis')).toBe(1);
    expect(ledger.callsByKey.has('adopted-fork:market-data')).toBe(false);
    expect(ledger.callsByKey.size - before).toBe(7);
    await expect(engine.runtime.adopt('never-started')).rejects.toBeInstanceOf(WorkflowNotFoundError);
  });
});

describe('pause and retry', () => {
  it('pauses a workflow whose step failed for good, and an operator retry finishes it', async () => {
    let calls = 0;
    engine = await startTestEngine({
      agents: [agent('ledger', ['book'], {
        book: () => {
          calls++;
          if (calls === 1) throw new AgentFailure('ledger closed for the night', 'closed', false);
          return { booked: true };
        },
      })],
    });
    const def = workflow('pausing').onFailure('pause').step({ id: 'book', action: 'book', capability: 'book', retry: fast }).build();
    const { workflowId } = await engine.runtime.startWorkflow(def, {});
    const paused = await engine.runtime.waitForEnd(workflowId, { orPaused: true });
    expect(paused.status).toBe('paused');
    await expect(engine.runtime.compensate('nope')).rejects.toBeInstanceOf(WorkflowNotFoundError);

    const resumed = await engine.runtime.retry(workflowId);
    expect(resumed.map((e) => e.type)).toEqual(['WorkflowResumed', 'StepScheduled']);
    const end = await engine.runtime.waitForEnd(workflowId);
    expect(end.status).toBe('completed');
    expect(calls).toBe(2);
  });
});

describe('limits', () => {
  it('bulkheads cap concurrent calls per capability across workflows', async () => {
    let running = 0;
    let peak = 0;
    engine = await startTestEngine({
      agents: [
        agent('pricer-1', ['price'], { price: async () => { running++; peak = Math.max(peak, running); await new Promise((r) => setTimeout(r, 20)); running--; return {}; } }),
        agent('pricer-2', ['price'], { price: async () => { running++; peak = Math.max(peak, running); await new Promise((r) => setTimeout(r, 20)); running--; return {}; } }),
      ],
      runtime: { bulkheads: { perCapability: { price: 2 } } },
    });
    const def = workflow('priced').step({ id: 'price', action: 'price', capability: 'price', retry: fast, timeoutMs: 10_000 }).build();
    const ids = await Promise.all(Array.from({ length: 8 }, () => engine!.runtime.startWorkflow(def, {})));
    for (const { workflowId } of ids) expect((await engine.runtime.waitForEnd(workflowId)).status).toBe('completed');
    expect(peak).toBe(2);
  });

  it('keeps at most maxInFlight workflows running and queues the rest in a visible backlog', async () => {
    let running = 0;
    let peak = 0;
    const gates: Array<() => void> = [];
    engine = await startTestEngine({
      agents: [agent('worker', ['work'], {
        hold: () => {
          running++;
          peak = Math.max(peak, running);
          return new Promise((resolve) => gates.push(() => {
            running--;
            resolve({});
          }));
        },
      })],
      runtime: { maxInFlight: 2 },
    });
    const def = workflow('held').step({ id: 'hold', action: 'hold', capability: 'work', retry: fast, timeoutMs: 10_000 }).build();
    const starts = Array.from({ length: 5 }, (_, i) => engine!.runtime.startWorkflow(def, {}, { workflowId: `held-${i}` }));
    await waitFor(() => gates.length === 2, { what: 'two held workflows to reach their agent' });
    expect(engine.runtime.stats()).toMatchObject({ inFlight: 2, backlog: 3 });
    // Release agents one by one until every workflow ran.
    for (let released = 0; released < 5; released++) {
      await waitFor(() => gates.length > 0, { what: `held workflow number ${released + 1} to reach its agent` });
      gates.shift()?.();
    }
    await Promise.all(starts);
    for (let i = 0; i < 5; i++) expect((await engine.runtime.waitForEnd(`held-${i}`)).status).toBe('completed');
    expect(peak).toBe(2);
    expect(engine.runtime.stats()).toMatchObject({ inFlight: 0, backlog: 0 });
  });
});
