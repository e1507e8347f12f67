import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sendDirect } from '../../src/operations/commands.js';
import { forkWorkflow } from '../../src/operations/fork.js';
import { summariseState } from '../../src/operations/replay.js';
import { parseReplayUntil, replaySteps, replayWorkflow } from '../../src/saga/stream/index.js';
import { CommandRejectedError } from '../../src/saga/triggers.js';
import { openStore } from '../../src/store/open.js';
import type { EventStore } from '../../src/store/port.js';
import { validateDefinition } from '../../src/workflow/validate.js';
import { tradingPipeline } from '../../sagas/index.js';
import { appendDecisions, simulateWorkflow, tradingInput, tradingOutputs } from './fixtures/simulate.js';

let store: EventStore;

beforeEach(async () => {
  store = await openStore('memory:');
});

afterEach(async () => {
  await store.close();
});

/** Everything succeeds, retries included, until the post-trade check rejects the executed order. */
function compensatedTrading(workflowId: string) {
  let failures = 0;
  return simulateWorkflow({
    workflowId,
    definition: tradingPipeline,
    input: tradingInput,
    outputs: tradingOutputs,
    seed: 7,
    script: ({ kind, stepId }) => {
      if (kind === 'step' && stepId === 'technical-analysis' && failures++ === 0) return 'fail';
      if (kind === 'step' && stepId === 'post-trade-check') return 'fatal';
      if (kind === 'compensation' && stepId === 'trade-execution' && failures++ === 1) return 'timeout';
      return 'ok';
    },
  });
}

describe('replay', () => {
  it('reproduces the recorded transition at every revision of a compensated trading workflow', async () => {
    const { decisions, states } = compensatedTrading('trade-1');
    await appendDecisions(store, 'trade-1', decisions);
    const final = states.at(-1)!;
    expect(final.status).toBe('compensated');
    const types = decisions.flat().map((e) => e.type);
    expect(types).toContain('CompensationSucceeded');
    expect(types).toContain('StepRetryScheduled');

    for (let revision = 0; revision < states.length; revision++) {
      const { state, events } = await replayWorkflow(store, 'trade-1', { revision: BigInt(revision) });
      expect(events).toBe(revision + 1);
      expect(summariseState(state)).toEqual(summariseState(states[revision]!));
    }
    // Step by step, each transition is the recorded one.
    let revision = 0;
    for await (const step of replaySteps(store, 'trade-1')) {
      expect(Number(step.recorded.revision)).toBe(revision);
      expect(step.state.status).toBe(states[revision]!.status);
      revision += 1;
    }
    expect(revision).toBe(states.length);
  });

  it('stops at a time: the last event recorded at or before it', async () => {
    const { decisions } = compensatedTrading('trade-2');
    await appendDecisions(store, 'trade-2', decisions.slice(0, 3));
    const cut = new Date();
    await new Promise((resolve) => setTimeout(resolve, 5));
    await store.append('workflow-trade-2', decisions[3]!, { expectedRevision: 'any' });
    const atCut = await replayWorkflow(store, 'trade-2', { time: cut });
    expect(atCut.events).toBe(decisions.slice(0, 3).flat().length);
    expect(parseReplayUntil('12')).toEqual({ revision: 12n });
    expect(parseReplayUntil('2026-01-01T00:00:00Z')).toEqual({ time: new Date('2026-01-01T00:00:00Z') });
    expect(parseReplayUntil('yesterday')).toBeUndefined();
  });
});

describe('fork', () => {
  it('starts a new workflow from the state at a revision: completed steps keep their outputs, the rest runs again', async () => {
    const { decisions, states } = compensatedTrading('trade-3');
    await appendDecisions(store, 'trade-3', decisions);
    // The first revision at which the risk assessment had succeeded.
    const at = states.findIndex((s) => s.status !== 'idle' && summariseState(s).steps.find((x) => x.id === 'risk-assessment')?.status === 'succeeded');
    const plan = await forkWorkflow(store, 'trade-3', BigInt(at), { workflowId: 'trade-3-fork', now: Date.UTC(2026, 1, 1) });
    expect(plan.reused).toEqual(['market-data', 'technical-analysis', 'sentiment-analysis', 'risk-assessment']);
    expect(plan.scheduled).toEqual(['trading-decision']);

    const { state } = await replayWorkflow(store, 'trade-3-fork');
    const summary = summariseState(state);
    expect(summary.status).toBe('running');
    const source = summariseState(states[at]!);
    for (const id of plan.reused) expect(summary.steps.find((s) => s.id === id)?.output).toEqual(source.steps.find((s) => s.id === id)?.output);
    expect(summary.data).toEqual(source.data);
    const first = [];
    for await (const event of store.readStream('workflow-trade-3-fork', { maxCount: 1 })) first.push(event);
    expect(first[0]?.metadata).toMatchObject({ correlationId: 'trade-3', forkedFrom: 'trade-3', forkedFromRevision: at });
    await expect(forkWorkflow(store, 'trade-3', 10_000n)).rejects.toThrow(/no revision 10000/);
  });
});

describe('operator commands without a runtime', () => {
  it('retries a paused workflow and compensates it; rejects what makes no sense and appends nothing', async () => {
    const definition = validateDefinition({ ...tradingPipeline, failureStrategy: 'pause' });
    const { decisions, state } = simulateWorkflow({
      workflowId: 'paused-1', definition, input: tradingInput, outputs: tradingOutputs, seed: 3,
      script: ({ stepId }) => (stepId === 'compliance' ? 'fatal' : 'ok'),
    });
    expect(state.status).toBe('paused');
    await appendDecisions(store, 'paused-1', decisions);

    const retried = await sendDirect(store, 'paused-1', { type: 'retry' });
    // The CLI calls no agent: the retried step waits for one, and the owning runtime, woken by the append, runs it.
    expect(retried.map((e) => e.type)).toEqual(['WorkflowResumed', 'StepWaitingForAgent']);
    // The correlation is the workflow id here: not written (the stream name says it).
    expect(retried[0]?.metadata).toEqual({ causationId: expect.stringMatching(/^command:retry:/) });
    await expect(sendDirect(store, 'paused-1', { type: 'retry' })).rejects.toBeInstanceOf(CommandRejectedError);

    const compensated = await sendDirect(store, 'paused-1', { type: 'compensate', reason: 'operator' });
    expect(compensated[0]?.type).toBe('CompensationStarted');
    const after = await replayWorkflow(store, 'paused-1');
    expect(after.state.status).toBe('compensating');
    const before = after.events;
    await expect(sendDirect(store, 'paused-1', { type: 'compensate' })).rejects.toBeInstanceOf(CommandRejectedError);
    expect((await replayWorkflow(store, 'paused-1')).events).toBe(before);
  });
});
