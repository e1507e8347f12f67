/**
 * Decide rules the docs state that the broader specs left loose (found by mutating the core,
 * docs/testing.md "Mutation testing"): each title names the promise (docs/workflows.md "How a
 * workflow runs", docs/events.md "The catalogue").
 */
import { describe, expect, it } from 'vitest';
import { CommandRejectedError, decide, initialState, stepState, type Trigger } from '../../src/saga/index.js';
import { Scenario, T0, ctx, diamond, given } from './spec.js';

const command = (c: Extract<Trigger, { kind: 'command' }>['command']): Trigger => ({ kind: 'command', command: c });

describe('commands name the workflow and its status when refused (workflows.md, "Commands")', () => {
  it('refuses a command for a workflow not started, naming it when the state knows it', () => {
    given([]).when(command({ type: 'cancel' })).thenRejects(/^Cannot cancel: workflow has not been started$/, CommandRejectedError);
    expect(() => decide(initialState('wf-9'), command({ type: 'retry' }), ctx())).toThrow(/^Cannot retry: workflow wf-9 has not been started$/);
  });
});

describe('start (workflows.md, "Commands": start when the workflow does not exist)', () => {
  const def = { name: 'one', steps: [{ id: 'a', action: 'a', capability: 'x' }] };

  it('refuses an empty workflow id and writes nothing', () => {
    given([]).when(command({ type: 'start', workflowId: '', definition: def, input: {} })).thenRejects(/^Cannot start: the workflow id is empty$/, CommandRejectedError);
  });

  it('starts with the initial data and the input under `input` (workflows.md, "Data mapping")', () => {
    given([]).when(command({ type: 'start', workflowId: 'wf-1', definition: { ...def, initialData: { limit: 3, input: 'overwritten' } }, input: { k: 1 } })).then([
      { type: 'WorkflowStarted', data: { input: { k: 1 }, data: { limit: 3, input: { k: 1 } } } },
      { type: 'StepScheduled', data: { stepId: 'a', attempt: 1, agentId: 'x-1', deadline: T0 + 30_000 } },
    ]);
  });
});

describe('the parallelism limit (workflows.md, "Scheduling": ready steps wait for a free slot)', () => {
  const wide = { name: 'wide', limits: { maxParallelSteps: 2 }, steps: ['p', 'q', 'r'].map((id) => ({ id, action: id, capability: 'x', retry: { maxAttempts: 3, initialDelayMs: 100, multiplier: 2, maxDelayMs: 1_000, jitter: 0 } })) };

  it('holds a due retry while the workflow is at its limit, and runs it when a slot frees', () => {
    const s = new Scenario(wide).start().fail('p');
    // p waits for its retry; its slot went to r.
    expect(s.types().slice(-3)).toEqual(['StepFailed', 'StepRetryScheduled', 'StepScheduled']);
    expect(stepState(s.state, 'r')?.status).toBe('running');
    given(s.events).when({ kind: 'timer', timer: { kind: 'retryDue', stepId: 'p', attempt: 2 } }, ctx({ now: T0 + 100 })).thenNothing();
    s.at(T0 + 200).succeed('q');
    expect(s.events.slice(-2)).toMatchObject([{ type: 'StepSucceeded', data: { stepId: 'q' } }, { type: 'StepScheduled', data: { stepId: 'p', attempt: 2 } }]);
  });

  it('does not run a retry before it is due even when a slot frees', () => {
    const s = new Scenario(wide).start().fail('p');
    s.at(T0 + 50).succeed('q');
    expect(s.events.at(-1)).toMatchObject({ type: 'StepSucceeded', data: { stepId: 'q' } });
    expect(stepState(s.state, 'p')?.status).toBe('retryWaiting');
  });
});

describe('pause and retry (workflows.md, "pause": failed steps get a fresh round, due retries run at once)', () => {
  it('lists the failed steps and those waiting for a retry, and schedules both at once', () => {
    const s = new Scenario(diamond({ failureStrategy: 'pause' })).start().succeed('a').fail('b').fail('c', false);
    expect(s.state.status).toBe('paused');
    expect(stepState(s.state, 'b')?.status).toBe('retryWaiting');
    given(s.events).when(command({ type: 'retry' })).then([
      { type: 'WorkflowResumed', data: { round: 1, retrySteps: ['b', 'c'] } },
      { type: 'StepScheduled', data: { stepId: 'b', attempt: 2 } },
      { type: 'StepScheduled', data: { stepId: 'c', attempt: 2 } },
    ]);
  });

  it('records a step that fails while paused without retrying it', () => {
    const s = new Scenario(diamond({ failureStrategy: 'pause' })).start().succeed('a').fail('b', false);
    given(s.events).when({ kind: 'stepResult', stepId: 'c', attempt: 1, outcome: { ok: false, error: { message: 'flaky', retryable: true } } }).then([
      { type: 'StepFailed', data: { stepId: 'c' } },
    ]);
  });
});

describe('timers (workflows.md: timers that fire early, for another attempt or after the fact decide nothing)', () => {
  it('runs a compensation retry when due, not before, and not for another attempt', () => {
    const s = new Scenario(diamond()).start().succeed('a').succeed('b').succeed('c').fail('d', false).compensated('c').compensationFails('b');
    const retry = (attempt: number, now: number) => given(s.events).when({ kind: 'timer', timer: { kind: 'compensationRetryDue', stepId: 'b', attempt } }, ctx({ now }));
    retry(2, T0 + 99).thenNothing();
    retry(3, T0 + 100).thenNothing();
    retry(2, T0 + 100).then([{ type: 'CompensationScheduled', data: { stepId: 'b', attempt: 2, deadline: T0 + 100 + 5_000 } }]);
  });

  it('times a compensation out at its deadline only, as a retryable TIMEOUT naming the attempt', () => {
    const s = new Scenario(diamond()).start().succeed('a').fail('b', false).succeed('c');
    const timeout = (attempt: number, now: number) => given(s.events).when({ kind: 'timer', timer: { kind: 'compensationTimeout', stepId: 'c', attempt } }, ctx({ now }));
    timeout(1, T0 + 4_999).thenNothing();
    timeout(2, T0 + 5_000).thenNothing();
    timeout(1, T0 + 5_000).then([
      { type: 'CompensationFailed', data: { stepId: 'c', attempt: 1, agentId: 'cap-c-1', error: { message: 'Compensation attempt 1 timed out', code: 'TIMEOUT', retryable: true } } },
      { type: 'CompensationRetryScheduled', data: { stepId: 'c', nextAttempt: 2 } },
    ]);
  });

  it('fails a step waiting for an agent only for the attempt that waits, and not once it is running', () => {
    const def = { name: 'w', failureStrategy: 'fail' as const, steps: [{ id: 'a', action: 'a', capability: 'x', scheduleToStartTimeoutMs: 1_000 }] };
    const none = ctx({ candidates: () => [] });
    const s = new Scenario(def, 'wf-1', { candidates: () => [] }).start();
    const timer = (attempt: number): Trigger => ({ kind: 'timer', timer: { kind: 'agentWaitTimeout', stepId: 'a', attempt } });
    given(s.events).when(timer(2), ctx({ now: T0 + 5_000, candidates: () => [] })).thenNothing();
    // An agent came and the attempt runs: the wait's timer is stale.
    const woken = new Scenario(def).start();
    given(woken.events).when(timer(1), ctx({ now: T0 + 5_000 })).thenNothing();
    given(s.events).when(timer(1), { ...none, now: T0 + 1_000 }).then([
      { type: 'StepFailed', data: { stepId: 'a', attempt: 1, error: { message: 'No agent with capability "x" became available within 1000 ms', code: 'NO_AGENT', retryable: false } } },
      { type: 'WorkflowFailed' },
    ]);
  });
});

describe('completion (events.md, WorkflowCompleted: data, skippedSteps, durationMs)', () => {
  it('records the final data, the skipped steps and the time from start to end', () => {
    const s = new Scenario(diamond({}, { c: { optional: true } })).start({ k: 1 }).succeed('a', 'A').succeed('b', 'B').fail('c', false);
    s.at(T0 + 7_000).succeed('d', 'D');
    expect(s.events.at(-1)).toMatchObject({
      type: 'WorkflowCompleted',
      data: { workflowId: 'wf-1', at: T0 + 7_000, data: { input: { k: 1 }, results: { a: 'A', b: 'B', d: 'D' } }, skippedSteps: ['c'], durationMs: 7_000 },
    });
  });
});
