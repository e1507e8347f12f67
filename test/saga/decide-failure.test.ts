import { describe, expect, it } from 'vitest';
import { CommandRejectedError, stepState, type WorkflowEvent } from '../../src/saga/index.js';
import { Scenario, T0, diamond, given } from './spec.js';

const ok = (stepId: string, attempt = 1) => ({ kind: 'stepResult', stepId, attempt, outcome: { ok: true, output: { v: stepId } } }) as const;
const failed = (stepId: string, attempt = 1) => ({ kind: 'stepResult', stepId, attempt, outcome: { ok: false, error: { message: 'rejected', retryable: false } } }) as const;
const compOk = (stepId: string, attempt = 1) => ({ kind: 'compensationResult', stepId, attempt, outcome: { ok: true, output: { undone: stepId } } }) as const;
const command = (c: { type: 'retry' } | { type: 'cancel'; reason?: string } | { type: 'compensate'; reason?: string }) => ({ kind: 'command', command: c }) as const;

describe('optional steps', () => {
  it('skips an optional step that failed for good and still runs its dependents', () => {
    const s = new Scenario(diamond({}, { b: { optional: true } })).start().succeed('a').succeed('c');
    given(s.events).when(failed('b')).then([
      { type: 'StepFailed', data: { stepId: 'b' } },
      { type: 'StepSkipped', data: { stepId: 'b', attempts: 1, reason: 'Step "b" failed after 1 attempt(s): rejected' } },
      { type: 'StepScheduled', data: { stepId: 'd' } },
    ]);
    s.fail('b', false).succeed('d');
    expect(s.events.at(-1)).toMatchObject({ type: 'WorkflowCompleted', data: { skippedSteps: ['b'] } });
  });
});

describe('failure strategy "fail"', () => {
  it('ends the workflow failed, with the step and its error', () => {
    const s = new Scenario(diamond({ failureStrategy: 'fail' })).start().succeed('a');
    given(s.events).when(failed('b')).then([{ type: 'StepFailed' }, { type: 'WorkflowFailed', data: { failedStepId: 'b', error: { message: 'rejected' } } }]);
  });
});

describe('failure strategy "pause"', () => {
  const paused = () => new Scenario(diamond({ failureStrategy: 'pause' })).start().succeed('a').fail('b', false);

  it('pauses the workflow and schedules nothing more', () => {
    const s = new Scenario(diamond({ failureStrategy: 'pause' })).start().succeed('a');
    given(s.events).when(failed('b')).then([{ type: 'StepFailed' }, { type: 'WorkflowPaused', data: { round: 1, stepId: 'b' } }]);
    given(paused().events).when(ok('c')).then([{ type: 'StepSucceeded', data: { stepId: 'c' } }]);
  });

  it('on retry resumes with a fresh round of attempts for the failed step', () => {
    const s = paused().succeed('c');
    const events = given(s.events).when(command({ type: 'retry' })).then([
      { type: 'WorkflowResumed', data: { round: 1, retrySteps: ['b'] } },
      { type: 'StepScheduled', data: { stepId: 'b', attempt: 2, idempotencyKey: 'wf-1:b' } },
    ]);
    s.events.push(...events);
    expect(stepState(s.state, 'b')).toMatchObject({ status: 'running', attempt: 2, roundStart: 2 });
    s.fail('b');
    expect(s.events.at(-1)).toMatchObject({ type: 'StepRetryScheduled', data: { nextAttempt: 3 } });
  });

  it('gives each pause round its own event ids', () => {
    const s = paused().succeed('c').command({ type: 'retry' }).fail('b', false);
    const pauses = s.events.filter((e) => e.type === 'WorkflowPaused');
    expect(pauses.map((e) => e.data)).toMatchObject([{ round: 1 }, { round: 2 }]);
    expect(new Set(pauses.map((e) => e.id)).size).toBe(2);
  });

  it('compensates on command', () => {
    const s = paused();
    given(s.events).when(command({ type: 'compensate' })).then([{ type: 'CompensationStarted', data: { cause: 'command', toCompensate: ['a'] } }]);
  });
});

describe('failure strategy "compensate"', () => {
  it('stops scheduling, lets in-flight steps finish, then compensates in reverse dependency order', () => {
    const s = new Scenario(diamond()).start().succeed('a');
    given(s.events).when(failed('b')).then([
      { type: 'StepFailed', data: { stepId: 'b' } },
      { type: 'CompensationStarted', data: { cause: 'failure', failedStepId: 'b', toCompensate: ['a'] } },
    ]);
    s.fail('b', false);
    // c was in flight: it finishes, and is compensated before a, which it depends on
    given(s.events).when(ok('c')).then([
      { type: 'StepSucceeded', data: { stepId: 'c' } },
      { type: 'CompensationScheduled', data: { stepId: 'c', attempt: 1, action: 'undo-c', agentId: 'cap-c-1', input: { ref: { v: 'c' } }, idempotencyKey: 'wf-1:c:compensate' } },
    ]);
    s.succeed('c');
    given(s.events).when(compOk('c')).then([{ type: 'CompensationSucceeded', data: { stepId: 'c' } }, { type: 'CompensationScheduled', data: { stepId: 'a' } }]);
    s.compensated('c');
    given(s.events).when(compOk('a')).then([
      { type: 'CompensationSucceeded', data: { stepId: 'a' } },
      { type: 'WorkflowCompensated', data: { cause: 'failure', compensatedSteps: ['a', 'c'] } },
    ]);
  });

  it('waits for an in-flight step to time out before compensating', () => {
    const s = new Scenario(diamond()).start().succeed('a').fail('b', false);
    given(s.events).when({ kind: 'timer', timer: { kind: 'stepTimeout', stepId: 'c', attempt: 1 } }, { now: T0 + 5_000, random: () => 0, candidates: (c) => [c] }).then([
      { type: 'StepTimedOut', data: { stepId: 'c' } },
      { type: 'CompensationScheduled', data: { stepId: 'a' } },
    ]);
  });

  it('compensates independent steps in parallel', () => {
    const def = { name: 'roots', steps: ['p', 'q'].map((id) => ({ id, action: id, capability: 'x', compensation: { action: `undo-${id}` } })).concat([{ id: 'z', action: 'z', capability: 'x', dependsOn: ['p', 'q'] } as never]) };
    const s = new Scenario(def).start().succeed('p').succeed('q');
    given(s.events).when(failed('z')).then([
      { type: 'StepFailed' },
      { type: 'CompensationStarted', data: { toCompensate: ['p', 'q'] } },
      { type: 'CompensationScheduled', data: { stepId: 'q' } },
      { type: 'CompensationScheduled', data: { stepId: 'p' } },
    ]);
  });

  it('retries a failing compensation by its own policy, then reports what is left', () => {
    const s = new Scenario(diamond()).start().succeed('a').succeed('b').succeed('c').fail('d', false);
    expect(s.types().slice(-3)).toEqual(['CompensationStarted', 'CompensationScheduled', 'CompensationScheduled']);
    s.compensated('c').compensationFails('b');
    expect(s.events.at(-1)).toMatchObject({ type: 'CompensationRetryScheduled', data: { stepId: 'b', nextAttempt: 2, delayMs: 100 } });
    s.compensationRetryDue('b');
    expect(s.events.at(-1)).toMatchObject({ type: 'CompensationScheduled', data: { stepId: 'b', attempt: 2, agentId: 'cap-b-2' } });
    s.compensationFails('b');
    expect(s.events.slice(-2)).toMatchObject([
      { type: 'CompensationFailed', data: { stepId: 'b', attempt: 2 } },
      { type: 'WorkflowCompensationFailed', data: { compensatedSteps: ['c'], failedSteps: ['b'], blockedSteps: ['a'], lastError: { message: 'undo failed' } } },
    ]);
    expect(s.state.status).toBe('compensationFailed');
  });

  it('treats a compensation timeout as a failed compensation attempt', () => {
    const s = new Scenario(diamond()).start().succeed('a').fail('b', false).succeed('c');
    given(s.events).when({ kind: 'timer', timer: { kind: 'compensationTimeout', stepId: 'c', attempt: 1 } }, { now: T0 + 5_000, random: () => 0, candidates: (c) => [c] }).then([
      { type: 'CompensationFailed', data: { stepId: 'c', error: { code: 'TIMEOUT', retryable: true } } },
      { type: 'CompensationRetryScheduled', data: { stepId: 'c', nextAttempt: 2 } },
    ]);
  });

  it('ends compensated at once when nothing succeeded', () => {
    const s = new Scenario(diamond()).start();
    given(s.events).when(failed('a')).then([{ type: 'StepFailed' }, { type: 'CompensationStarted', data: { toCompensate: [] } }, { type: 'WorkflowCompensated', data: { compensatedSteps: [] } }]);
  });

  it('skips steps without a compensation but keeps the order through them', () => {
    const s = new Scenario(diamond({}, { b: { compensation: undefined }, c: { compensation: undefined } })).start().succeed('a').succeed('b').succeed('c');
    given(s.events).when(failed('d')).then([{ type: 'StepFailed' }, { type: 'CompensationStarted', data: { toCompensate: ['a'] } }, { type: 'CompensationScheduled', data: { stepId: 'a' } }]);
  });

  it('compensates a wide DAG bottom-up, each step as soon as every step below it is done, through steps that owe nothing', () => {
    // r -> l0..l39; x (owes nothing) depends on l0..l19; y on x; the failing step on all leaves and y.
    const compensable = (id: string, dependsOn: string[]) => ({ id, action: id, capability: 'x', dependsOn, compensation: { action: `undo-${id}` } });
    const leaves = Array.from({ length: 40 }, (_, k) => `l${k}`);
    const def = {
      name: 'wide-compensation',
      steps: [
        compensable('r', []),
        ...leaves.map((id) => compensable(id, ['r'])),
        { id: 'x', action: 'x', capability: 'x', dependsOn: leaves.slice(0, 20) },
        compensable('y', ['x']),
        { id: 'last', action: 'last', capability: 'x', dependsOn: [...leaves, 'y'] },
      ],
    };
    const s = new Scenario(def).start().succeed('r');
    for (const id of leaves) s.succeed(id);
    s.succeed('x').succeed('y').fail('last', false);
    const scheduled = (events: readonly WorkflowEvent[]) => events.filter((e) => e.type === 'CompensationScheduled').map((e) => (e.data as { stepId: string }).stepId);
    // First pass: y and the leaves nothing compensable depends on, last step first.
    expect(scheduled(s.events)).toEqual(['y', ...leaves.slice(20).reverse()]);
    const undone = (stepId: string) => scheduled(s.apply(compOk(stepId)));
    // y done: the leaves below x are free (x owes nothing).
    expect(undone('y')).toEqual(leaves.slice(0, 20).reverse());
    // r waits for every leaf, whatever order they finish in.
    for (const id of leaves.slice(0, 39)) expect(undone(id)).toEqual([]);
    expect(undone('l39')).toEqual(['r']);
    undone('r');
    expect(s.events.at(-1)).toMatchObject({ type: 'WorkflowCompensated', data: { compensatedSteps: ['r', ...leaves, 'y'] } });
  });

  it('ignores compensation results for stale attempts and duplicates', () => {
    const s = new Scenario(diamond()).start().succeed('a').fail('b', false).succeed('c').compensated('c');
    given(s.events).when(compOk('c')).thenNothing();
    given(s.events).when(compOk('a', 2)).thenNothing();
  });
});

describe('commands', () => {
  it('cancel compensates like a failure and ends cancelled', () => {
    const s = new Scenario(diamond()).start().succeed('a');
    given(s.events).when(command({ type: 'cancel', reason: 'operator said so' })).then([{ type: 'CompensationStarted', data: { cause: 'cancel', reason: 'operator said so', toCompensate: ['a'] } }]);
    s.command({ type: 'cancel', reason: 'operator said so' }).succeed('b').succeed('c');
    expect(s.types().slice(-3)).toEqual(['StepSucceeded', 'CompensationScheduled', 'CompensationScheduled']);
    s.compensated('c').compensated('b').compensated('a');
    expect(s.events.at(-1)).toMatchObject({ type: 'WorkflowCancelled', data: { reason: 'operator said so', compensatedSteps: ['a', 'b', 'c'] } });
  });

  it('cancel of a paused workflow compensates what succeeded', () => {
    const s = new Scenario(diamond({ failureStrategy: 'pause' })).start().succeed('a').fail('b', false).succeed('c');
    given(s.events).when(command({ type: 'cancel' })).then([
      { type: 'CompensationStarted', data: { cause: 'cancel', reason: 'Cancelled by an operator', toCompensate: ['a', 'c'] } },
      { type: 'CompensationScheduled', data: { stepId: 'c' } },
    ]);
  });

  it('rejects commands that make no sense in the current state, deciding nothing', () => {
    const running = new Scenario(diamond()).start();
    given(running.events).when(command({ type: 'retry' })).thenRejects(/Cannot retry: workflow wf-1 is running/, CommandRejectedError);
    const done = new Scenario(diamond()).start().succeed('a').succeed('b').succeed('c').succeed('d');
    expect(done.state.status).toBe('completed');
    given(done.events).when(command({ type: 'retry' })).thenRejects(/is completed/, CommandRejectedError);
    given(done.events).when(command({ type: 'cancel' })).thenRejects(/Cannot cancel: workflow wf-1 is completed/, CommandRejectedError);
    const compensating = new Scenario(diamond()).start().command({ type: 'compensate' });
    given(compensating.events).when(command({ type: 'compensate' })).thenRejects(/is compensated|is compensating/, CommandRejectedError);
    given([]).when(command({ type: 'cancel' })).thenRejects(/has not been started/, CommandRejectedError);
  });
});
