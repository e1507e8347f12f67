/**
 * Decide rules the docs state that the broader specs left loose (found by mutating the core,
 * docs/testing.md "Mutation testing"): each title names the promise (docs/workflows.md "How a
 * workflow runs", docs/events.md "The catalogue").
 */
import { describe, expect, it } from 'vitest';
import { CommandRejectedError, decide, eventId, initialState, stepState, type Trigger } from '../../src/saga/index.js';
import { DefinitionError } from '../../src/workflow/index.js';
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

describe('a refused command says which command was refused (CommandRejectedError.command)', () => {
  const refusal = (run: () => unknown): CommandRejectedError => {
    try {
      run();
    } catch (error) {
      if (error instanceof CommandRejectedError) return error;
      throw error;
    }
    throw new Error('not refused');
  };
  const def = { name: 'one', input: { required: ['a', 'b.c'] }, steps: [{ id: 'a', action: 'a', capability: 'x' }] };

  it('names start, cancel, compensate, resolve and retry, with the reason in the message', () => {
    const done = new Scenario(diamond()).start().succeed('a').succeed('b').succeed('c').succeed('d').state;
    const queued = new Scenario(diamond());
    queued.apply({ kind: 'command', command: { type: 'start', workflowId: 'wf-1', definition: queued.definition, input: {}, admit: false } });
    const cases: [Trigger, typeof done, string, RegExp][] = [
      [command({ type: 'cancel' }), done, 'cancel', /^Cannot cancel: workflow wf-1 is completed$/],
      [command({ type: 'compensate' }), done, 'compensate', /^Cannot compensate: workflow wf-1 is completed$/],
      [command({ type: 'compensate' }), queued.state, 'compensate', /^Cannot compensate: workflow wf-1 is queued \(nothing of it has run: cancel it\)$/],
      [command({ type: 'resolve', note: 'x' }), done, 'resolve', /^Cannot resolve: workflow wf-1 is completed \(only a workflow whose compensation failed can be resolved\)$/],
      [command({ type: 'retry' }), done, 'retry', /^Cannot retry: workflow wf-1 is completed \(only a paused workflow can be retried\)$/],
      [command({ type: 'start', workflowId: 'wf-1', definition: def, input: {} }), done, 'start', /^Cannot start: workflow wf-1 already exists \(completed\)$/],
      [command({ type: 'start', workflowId: '', definition: def, input: {} }), initialState(), 'start', /^Cannot start: the workflow id is empty$/],
      [command({ type: 'start', workflowId: 'wf-2', definition: def, input: {} }), initialState(), 'start', /^Cannot start: input is missing "a", "b.c"$/],
      [command({ type: 'start', workflowId: 'wf-2', definition: def, input: { a: 1, b: { c: 2 } }, priority: 101 }), initialState(), 'start', /^Cannot start: priority must be an integer from -100 to 100, got 101$/],
    ];
    for (const [trigger, state, name, message] of cases) {
      const error = refusal(() => decide(state, trigger, ctx()));
      expect(error.command).toBe(name);
      expect(error.message).toMatch(message);
    }
    const resolve = new Scenario(diamond()).start().succeed('a').succeed('b').fail('c', false).compensationFails('b').compensationRetryDue('b').compensationFails('b');
    const empty = refusal(() => decide(resolve.state, command({ type: 'resolve', note: ' ' }), ctx()));
    expect([empty.command, empty.message]).toEqual(['resolve', 'Cannot resolve: the note is empty (say what was done by hand)']);
  });

  it('starts a workflow on its own idle state', () => {
    expect(decide(initialState('wf-1'), command({ type: 'start', workflowId: 'wf-1', definition: def, input: { a: 1, b: { c: 2 } } }), ctx()).map((e) => e.type)).toEqual(['WorkflowStarted', 'StepScheduled']);
  });

  it('refuses to start one workflow on the state of another', () => {
    const error = refusal(() => decide(initialState('wf-9'), command({ type: 'start', workflowId: 'wf-1', definition: def, input: { a: 1, b: { c: 2 } } }), ctx()));
    expect([error.command, error.message]).toEqual(['start', 'Cannot start workflow wf-1 on the state of workflow wf-9']);
  });

  it('keeps the DefinitionError, with its issues naming step and field, as the cause of an invalid definition\'s refusal (workflows.md, "Validation")', () => {
    const bad = { name: 'bad', steps: [{ id: 'a', action: 'a', capability: 'x', retry: { jitter: 2 } }] };
    const error = refusal(() => decide(initialState(), command({ type: 'start', workflowId: 'wf-1', definition: bad, input: {} }), ctx()));
    expect([error.name, error.command]).toEqual(['CommandRejectedError', 'start']);
    expect(error.message).toMatch(/^Cannot start: invalid definition: /);
    expect(error.cause).toBeInstanceOf(DefinitionError);
    expect((error.cause as DefinitionError).issues).toEqual([expect.objectContaining({ stepId: 'a', field: 'retry.jitter' })]);
  });

  it('gives the operator\'s default reasons when a command brings none', () => {
    const queued = new Scenario(diamond());
    queued.apply({ kind: 'command', command: { type: 'start', workflowId: 'wf-1', definition: queued.definition, input: {}, admit: false } });
    given(queued.events).when(command({ type: 'cancel' })).then([{ type: 'WorkflowCancelled', data: { reason: 'Cancelled by an operator', compensatedSteps: [] } }]);
    const running = new Scenario(diamond()).start().succeed('a');
    given(running.events).when(command({ type: 'compensate' })).then([{ type: 'CompensationStarted', data: { cause: 'command', reason: 'Compensation requested by an operator' } }]);
    const failed = new Scenario(diamond()).start().succeed('a').succeed('b').fail('c', false).compensationFails('b').compensationRetryDue('b').compensationFails('b');
    given(failed.events).when(command({ type: 'compensate' })).then([{ type: 'CompensationRetried', data: { reason: 'Compensation retried by an operator' } }, { type: 'CompensationScheduled' }]);
  });
});

describe('stale timers decide nothing (workflows.md, "Timeouts"; events.md, "Terminal events")', () => {
  const timer = (kind: 'stepTimeout' | 'retryDue' | 'compensationTimeout' | 'agentWaitTimeout' | 'compensationRetryDue', stepId: string, attempt: number): Trigger => ({ kind: 'timer', timer: { kind, stepId, attempt } });
  const late = ctx({ now: T0 + 3_600_000 });

  it('for a step the definition does not have', () => {
    const s = new Scenario(diamond()).start();
    given(s.events).when(timer('stepTimeout', 'ghost', 1), late).thenNothing();
  });

  it('a retry timer while the workflow is paused: failures are not retried then', () => {
    const s = new Scenario(diamond({ failureStrategy: 'pause' })).start().succeed('a').fail('b').fail('c', false);
    expect([s.state.status, stepState(s.state, 'b')?.status]).toEqual(['paused', 'retryWaiting']);
    given(s.events).when(timer('retryDue', 'b', 2), late).thenNothing();
  });

  it('a retry timer, an agent-wait timer or a compensation retry timer for a step that waits for none of them', () => {
    const s = new Scenario(diamond({}, { d: { scheduleToStartTimeoutMs: 1_000 } })).start();
    // d has not been attempted: nothing of it is due.
    given(s.events).when(timer('retryDue', 'd', 1), late).thenNothing();
    given(s.events).when(timer('agentWaitTimeout', 'd', 1), late).thenNothing();
    const compensating = new Scenario(diamond()).start().succeed('a').succeed('b').fail('c', false);
    // a's compensation waits for b's, and no retry of it is due.
    expect(stepState(compensating.state, 'a')?.compensation.status).toBe('none');
    given(compensating.events).when(timer('compensationRetryDue', 'a', 1), late).thenNothing();
  });

  it('a compensation timeout after the compensation answered', () => {
    const s = new Scenario(diamond()).start().succeed('a').succeed('b').fail('c', false).compensated('b');
    expect(stepState(s.state, 'b')?.compensation).toMatchObject({ status: 'succeeded', attempt: 1 });
    given(s.events).when(timer('compensationTimeout', 'b', 1), late).thenNothing();
  });
});

describe('resume and wake (runtime.md, "Waiting for an agent"; events.md, StepResumed)', () => {
  it('decides nothing for a workflow not started, or one that ended with steps still running', () => {
    given([]).when({ kind: 'resume', reason: 'restart' }).thenNothing();
    given([]).when({ kind: 'wake' }).thenNothing();
    const failed = new Scenario(diamond({ failureStrategy: 'fail' })).start().succeed('a').fail('b', false);
    expect([failed.state.status, stepState(failed.state, 'c')?.status]).toEqual(['failed', 'running']);
    given(failed.events).when({ kind: 'resume', reason: 'restart' }).thenNothing();
    given(failed.events).when({ kind: 'wake' }).thenNothing();
  });

  it('schedules on a resume what waited for an agent that is there now', () => {
    const s = new Scenario(diamond({}, { c: { capability: 'late' } }), 'wf-1', { candidates: (cap) => (cap === 'late' ? [] : [`${cap}-1`]) }).start().succeed('a');
    expect(stepState(s.state, 'c')?.status).toBe('waitingForAgent');
    given(s.events).when({ kind: 'resume', reason: 'restart' }).then([
      { type: 'StepResumed', data: { stepId: 'b' } },
      { type: 'StepScheduled', data: { stepId: 'c', attempt: 1, agentId: 'late-1' } },
    ]);
  });

  it('keeps the agent of a call in flight while it is a candidate, first or not, and when there is none to choose', () => {
    const s = new Scenario(diamond()).start().fail('a').retryDue('a');
    expect(stepState(s.state, 'a')).toMatchObject({ attempt: 2, agentId: 'cap-a-2' });
    given(s.events).when({ kind: 'resume', reason: 'restart' }).then([{ type: 'StepResumed', data: { stepId: 'a', agentId: 'cap-a-2' } }]);
    given(s.events).when({ kind: 'resume', reason: 'restart' }, ctx({ candidates: () => [] })).then([{ type: 'StepResumed', data: { stepId: 'a', agentId: 'cap-a-2' } }]);
  });

  it('re-sends a compensation to its own capability, with its own timeout, and ids keyed by the revision resumed from', () => {
    const def = diamond({}, { b: { compensation: { action: 'undo-b', capability: 'undoer', timeoutMs: 700, when: 'succeeded' } } });
    const s = new Scenario(def).start().succeed('a').succeed('b').fail('c', false);
    expect(stepState(s.state, 'b')?.compensation).toMatchObject({ status: 'running', agentId: 'undoer-1' });
    const revision = s.state.revision;
    const [resumed] = given(s.events).when({ kind: 'resume', reason: 'restart' }, ctx({ now: T0 + 10_000, candidates: (cap) => (cap === 'undoer' ? ['undoer-2'] : []) })).then([
      { type: 'CompensationResumed', data: { stepId: 'b', attempt: 1, agentId: 'undoer-2', deadline: T0 + 10_700, idempotencyKey: 'wf-1:b:compensate' } },
    ]);
    expect(resumed?.id).toBe(eventId('wf-1', 'CompensationResumed', 'b', revision));
  });

  it('keys a second task of one attempt by the revision, so both are kept (events.md, StepTaskAccepted)', () => {
    const s = new Scenario(diamond()).start();
    s.apply({ kind: 'taskAccepted', stepId: 'a', attempt: 1, agentId: 'cap-a-1', taskId: 'task-1' });
    s.apply({ kind: 'resume', reason: 'agent gone' }, { candidates: () => ['other'] });
    s.apply({ kind: 'taskAccepted', stepId: 'a', attempt: 1, agentId: 'other', taskId: 'task-2' });
    const accepted = s.events.filter((e) => e.type === 'StepTaskAccepted');
    expect(accepted.map((e) => e.data.taskId)).toEqual(['task-1', 'task-2']);
    expect(new Set(accepted.map((e) => e.id)).size).toBe(2);
  });
});
