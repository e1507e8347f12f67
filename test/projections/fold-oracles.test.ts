/**
 * The step-metrics and agent-health folds against oracles of their own: hand-computed documents for
 * small fixed histories, and properties over random ones that count the raw events independently.
 * (read-models.test.ts compares the stored read models with these same folds; a wrong fold would
 * agree with itself there.)
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { foldDocs } from '../../src/projections/doc-fold.js';
import { openStore } from '../../src/store/open.js';
import type { RecordedEvent } from '../../src/store/port.js';
import { workflow } from '../../src/workflow/index.js';
import { tradingPipeline } from '../../sagas/index.js';
import { agentHealthFold, type AgentHealthDoc, type AgentHealthReadModel } from '../../projections/agent-health/fold.js';
import { percentile } from '../../projections/shared/histogram.js';
import { stepMetricsFold, type AgentMetricsDoc, type StepMetricsDoc, type StepMetricsReadModel } from '../../projections/step-metrics/fold.js';
import { appendDecisions, randomScript, simulateWorkflow, tradingInput, tradingOutputs, type AgentScript, type ScriptedOutcome } from './fixtures/simulate.js';
import { readLog } from './fixtures/populate.js';

const once = { maxAttempts: 3, initialDelayMs: 10, multiplier: 1, maxDelayMs: 10, jitter: 0 };
// fetch (capability data) then book (capability book); fetch has a compensation.
const twoSteps = workflow('oracle')
  .step({ id: 'fetch', action: 'fetch', capability: 'data', retry: once, compensation: { action: 'unfetch', input: {}, retry: once } })
  .step({ id: 'book', action: 'book', capability: 'book', dependsOn: ['fetch'], retry: once })
  .build();

/** A script from a table: `kind:step:attempt` to outcome, 'ok' for anything not listed. */
function scripted(table: Record<string, ScriptedOutcome>): AgentScript {
  return (call) => table[`${call.kind}:${call.stepId}:${call.attempt}`] ?? 'ok';
}

/** Simulates the workflows (the pure core), appends them to a memory store and returns the log. */
async function logOf(runs: readonly { id: string; script: AgentScript; definition?: typeof twoSteps }[]): Promise<RecordedEvent[]> {
  const store = await openStore('memory:');
  try {
    for (const [index, run] of runs.entries()) {
      const { decisions } = simulateWorkflow({
        workflowId: run.id,
        definition: run.definition ?? twoSteps,
        input: run.definition ? tradingInput : {},
        outputs: run.definition ? tradingOutputs : {},
        seed: index + 1,
        script: run.script,
      });
      await appendDecisions(store, run.id, decisions);
    }
    return await readLog(store);
  } finally {
    await store.close();
  }
}

const dataOf = (event: RecordedEvent) => event.data as { stepId?: string; agentId?: string; durationMs?: number; attempt?: number };
const durationsOf = (log: readonly RecordedEvent[], stepId: string) =>
  log.filter((e) => e.type === 'StepSucceeded' && dataOf(e).stepId === stepId).map((e) => dataOf(e).durationMs as number);

function stepDocs(models: Map<string, StepMetricsReadModel>): Map<string, StepMetricsDoc> {
  return new Map([...models.values()].flatMap((doc) => (doc.kind === 'step' ? [[doc.stepId, doc] as const] : [])));
}
function agentDocs(models: Map<string, StepMetricsReadModel>): Map<string, AgentMetricsDoc> {
  return new Map([...models.values()].flatMap((doc) => (doc.kind === 'agent' ? [[doc.agentId, doc] as const] : [])));
}
function healthDocs(models: Map<string, AgentHealthReadModel>): Map<string, AgentHealthDoc> {
  return new Map([...models.values()].flatMap((doc) => (doc.kind === 'agent' ? [[doc.agentId, doc] as const] : [])));
}
const outcomes = (doc: { attempts?: number; succeeded: number; failed: number; timedOut: number }) =>
  ({ ...(doc.attempts === undefined ? {} : { attempts: doc.attempts }), succeeded: doc.succeeded, failed: doc.failed, timedOut: doc.timedOut });

describe('step metrics and agent health, hand-computed', () => {
  // Run 1: fetch fails on data-1, succeeds on data-2 (failover); book times out on book-1, succeeds
  // on book-2. Run 2: fetch succeeds on data-1; book is refused for good on book-1, so fetch is
  // compensated (on data-1, its compensation succeeds).
  const runs = [
    { id: 'one', script: scripted({ 'step:fetch:1': 'fail', 'step:book:1': 'timeout' }) },
    { id: 'two', script: scripted({ 'step:book:1': 'fatal' }) },
  ];

  it('counts attempts, outcomes, retries and compensations per step, and outcomes per agent', async () => {
    const log = await logOf(runs);
    expect(log.filter((e) => e.type.startsWith('Workflow') && e.type !== 'WorkflowStarted').map((e) => e.type)).toEqual(['WorkflowCompleted', 'WorkflowCompensated']);
    const models = foldDocs(stepMetricsFold, log);
    const steps = stepDocs(models);
    expect(steps.get('fetch')).toMatchObject({
      definitionName: 'oracle', attempts: 3, succeeded: 2, failed: 1, timedOut: 0, retries: 1, skipped: 0,
      compensations: { attempts: 1, succeeded: 1, failed: 0 },
    });
    expect(steps.get('book')).toMatchObject({
      definitionName: 'oracle', attempts: 3, succeeded: 1, failed: 1, timedOut: 1, retries: 1, skipped: 0,
      compensations: { attempts: 0, succeeded: 0, failed: 0 },
    });
    const agents = agentDocs(models);
    expect(Object.fromEntries([...agents].map(([id, doc]) => [id, outcomes(doc)]))).toEqual({
      'data-1': { attempts: 2, succeeded: 1, failed: 1, timedOut: 0 },
      'data-2': { attempts: 1, succeeded: 1, failed: 0, timedOut: 0 },
      'book-1': { attempts: 2, succeeded: 0, failed: 1, timedOut: 1 },
      'book-2': { attempts: 1, succeeded: 1, failed: 0, timedOut: 0 },
    });
    // Latency: one sample per success, the agent's reported duration, exact below 64 ms.
    const fetchDurations = durationsOf(log, 'fetch');
    expect(steps.get('fetch')?.latency).toMatchObject({ count: 2, min: Math.min(...fetchDurations), max: Math.max(...fetchDurations) });
    expect(agents.get('data-2')?.latency).toMatchObject({ count: 1, min: fetchDurations[0], max: fetchDurations[0] });
    // Both workflows ended: no run document is left behind.
    expect([...models.keys()].filter((key) => key.startsWith('run:'))).toEqual([]);
  });

  it('tracks each agent\'s calls: in flight, outcomes in order, compensations included', async () => {
    const log = await logOf(runs);
    const health = healthDocs(foldDocs(agentHealthFold, log));
    const summary = Object.fromEntries([...health].map(([id, doc]) => [id, { ...outcomes(doc), inFlight: doc.inFlight, recent: doc.recent, samples: doc.latency.count }]));
    expect(summary).toEqual({
      // one: fetch attempt 1 fails; two: fetch succeeds, then its compensation succeeds.
      'data-1': { succeeded: 2, failed: 1, timedOut: 0, inFlight: 0, recent: 'fss', samples: 2 },
      'data-2': { succeeded: 1, failed: 0, timedOut: 0, inFlight: 0, recent: 's', samples: 1 },
      'book-1': { succeeded: 0, failed: 1, timedOut: 1, inFlight: 0, recent: 'tf', samples: 0 },
      'book-2': { succeeded: 1, failed: 0, timedOut: 0, inFlight: 0, recent: 's', samples: 1 },
    });
    expect([...health.values()].every((doc) => doc.registered === false && doc.circuit === 'closed')).toBe(true);
  });

  it('counts a call still open when its workflow is cut short as in flight, and releases it when the workflow ends', async () => {
    const log = await logOf([{ id: 'open', script: scripted({}) }]);
    // Up to book's StepScheduled: book is in flight on book-1.
    const scheduled = log.findIndex((e) => e.type === 'StepScheduled' && dataOf(e).stepId === 'book');
    const midway = healthDocs(foldDocs(agentHealthFold, log.slice(0, scheduled + 1)));
    expect(midway.get('book-1')).toMatchObject({ inFlight: 1, succeeded: 0 });
    expect(midway.get('data-1')).toMatchObject({ inFlight: 0, succeeded: 1 });
    const ended = healthDocs(foldDocs(agentHealthFold, log));
    expect(ended.get('book-1')).toMatchObject({ inFlight: 0, succeeded: 1 });
  });
});

describe('step metrics and agent health, properties over random trading histories', () => {
  const count = (log: readonly RecordedEvent[], type: string, stepId?: string) =>
    log.filter((e) => e.type === type && (stepId === undefined || dataOf(e).stepId === stepId)).length;

  it('add up to the events: attempts, outcomes and latency samples per step and per agent', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.integer({ min: 1, max: 1_000_000 }), { minLength: 1, maxLength: 4 }), async (seeds) => {
        const log = await logOf(seeds.map((seed, i) => ({ id: `p${i}`, definition: tradingPipeline, script: randomScript(seed, { fail: 0.2, fatal: 0.05, timeout: 0.1 }) })));
        const models = foldDocs(stepMetricsFold, log);
        const steps = stepDocs(models);
        const stepIds = new Set(log.filter((e) => e.type === 'StepScheduled').map((e) => dataOf(e).stepId as string));
        expect(new Set(steps.keys())).toEqual(stepIds);
        for (const [stepId, doc] of steps) {
          expect(doc.attempts).toBe(count(log, 'StepScheduled', stepId));
          expect(doc.succeeded).toBe(count(log, 'StepSucceeded', stepId));
          expect(doc.failed).toBe(count(log, 'StepFailed', stepId));
          expect(doc.timedOut).toBe(count(log, 'StepTimedOut', stepId));
          expect(doc.retries).toBe(count(log, 'StepRetryScheduled', stepId));
          expect(doc.compensations.attempts).toBe(count(log, 'CompensationScheduled', stepId));
          expect(doc.succeeded + doc.failed + doc.timedOut).toBeLessThanOrEqual(doc.attempts);
          const durations = durationsOf(log, stepId).sort((a, b) => a - b);
          expect(doc.latency.count).toBe(durations.length);
          if (durations.length === 0) continue;
          expect([doc.latency.min, doc.latency.max]).toEqual([durations[0], durations.at(-1)]);
          const [p50, p99] = [percentile(doc.latency, 50)!, percentile(doc.latency, 99)!];
          // Bounded by what was seen, ordered, and no lower than the exact nearest-rank value.
          expect(durations[0]).toBeLessThanOrEqual(p50);
          expect(p50).toBeLessThanOrEqual(p99);
          expect(p99).toBeLessThanOrEqual(durations.at(-1)!);
          expect(p99).toBeGreaterThanOrEqual(durations[Math.ceil(0.99 * durations.length) - 1]!);
        }
        // Per agent: every attempt counted once, for the agent that was called.
        const agents = [...agentDocs(models).values()];
        const byAgent = (type: string, agentId: string) => log.filter((e) => e.type === type && dataOf(e).agentId === agentId).length;
        expect(agents.reduce((sum, a) => sum + a.attempts, 0)).toBe(count(log, 'StepScheduled'));
        for (const agent of agents) {
          expect(agent.attempts).toBe(byAgent('StepScheduled', agent.agentId));
          expect(agent.succeeded).toBe(byAgent('StepSucceeded', agent.agentId));
          expect(agent.timedOut).toBe(byAgent('StepTimedOut', agent.agentId));
          expect(agent.latency.count).toBe(agent.succeeded);
        }

        // Agent health: once every workflow has ended, nothing is in flight, and every call's
        // outcome (steps and compensations) is counted once.
        const health = [...healthDocs(foldDocs(agentHealthFold, log)).values()];
        const ended = seeds.length === count(log, 'WorkflowCompleted') + count(log, 'WorkflowCompensated') + count(log, 'WorkflowFailed') + count(log, 'WorkflowCompensationFailed');
        if (ended) expect(health.map((a) => a.inFlight).filter((n) => n !== 0)).toEqual([]);
        else expect(health.every((a) => a.inFlight >= 0)).toBe(true);
        const results = ['StepSucceeded', 'StepFailed', 'StepTimedOut', 'CompensationSucceeded', 'CompensationFailed'].reduce((sum, type) => sum + count(log, type), 0);
        expect(health.reduce((sum, a) => sum + a.succeeded + a.failed + a.timedOut, 0)).toBe(results);
        for (const agent of health) {
          expect(agent.recent.length).toBe(Math.min(50, agent.succeeded + agent.failed + agent.timedOut));
          expect(agent.latency.count).toBe(agent.succeeded);
        }
      }),
      { numRuns: 40 },
    );
  });
});
