import { describe, expect, it } from 'vitest';
import type { Json } from '../../src/workflow/index.js';
import { Scenario, T0, diamond, given } from './spec.js';

const ok = (stepId: string, attempt: number, output: Json = { v: stepId }) => ({ kind: 'stepResult', stepId, attempt, outcome: { ok: true, output } }) as const;

describe('when a step result arrives', () => {
  it('schedules every dependent of a succeeded step in the same decision', () => {
    const s = new Scenario(diamond()).start();
    given(s.events).when(ok('a', 1)).then([
      { type: 'StepSucceeded', data: { stepId: 'a', attempt: 1, agentId: 'cap-a-1', output: { v: 'a' } } },
      { type: 'StepScheduled', data: { stepId: 'b', attempt: 1 } },
      { type: 'StepScheduled', data: { stepId: 'c', attempt: 1 } },
    ]);
  });

  it('waits for the last dependency, then schedules the join at once (no level barrier)', () => {
    const s = new Scenario(diamond()).start().succeed('a').succeed('b');
    expect(s.events.at(-1)?.type).toBe('StepSucceeded');
    given(s.events).when(ok('c', 1)).then([
      { type: 'StepSucceeded', data: { stepId: 'c' } },
      { type: 'StepScheduled', data: { stepId: 'd', attempt: 1 } },
    ]);
  });

  it('completes the workflow with the data built by the output mappings', () => {
    const s = new Scenario(diamond()).start({ n: 1 }).succeed('a', 1).succeed('b', 2).succeed('c', 3);
    s.at(T0 + 500);
    given(s.events).when(ok('d', 1, 4), { now: T0 + 500, random: () => 0, candidates: () => ['x'] }).then([
      { type: 'StepSucceeded', data: { stepId: 'd', durationMs: 500 } },
      { type: 'WorkflowCompleted', data: { data: { input: { n: 1 }, results: { a: 1, b: 2, c: 3, d: 4 } }, skippedSteps: [], durationMs: 500 } },
    ]);
  });

  it('ignores a duplicate result', () => {
    const s = new Scenario(diamond()).start().succeed('a');
    given(s.events).when(ok('a', 1)).thenNothing();
  });

  it('ignores a result for a stale attempt (after its timeout)', () => {
    const s = new Scenario(diamond()).start().timeOut('a');
    given(s.events).when(ok('a', 1)).thenNothing();
    s.retryDue('a');
    given(s.events).when(ok('a', 1)).thenNothing();
    given(s.events).when(ok('a', 2)).then([{ type: 'StepSucceeded', data: { stepId: 'a', attempt: 2 } }, { type: 'StepScheduled' }, { type: 'StepScheduled' }]);
  });

  it('ignores results for unknown steps and for workflows not started', () => {
    const s = new Scenario(diamond()).start();
    given(s.events).when(ok('ghost', 1)).thenNothing();
    given([]).when(ok('a', 1)).thenNothing();
  });

  it('fails the step without retry when its output lacks a mapped path', () => {
    const def = diamond({ failureStrategy: 'fail' }, { a: { output: { price: 'quote.price' } } });
    const s = new Scenario(def).start();
    given(s.events).when(ok('a', 1, { quote: {} })).then([
      { type: 'StepFailed', data: { stepId: 'a', attempt: 1, error: { code: 'MAPPING_ERROR', retryable: false } } },
      { type: 'WorkflowFailed', data: { failedStepId: 'a' } },
    ]);
  });

  it('ignores results once the workflow has ended', () => {
    const s = new Scenario(diamond({ failureStrategy: 'fail' })).start().succeed('a').fail('b', false);
    expect(s.state.status).toBe('failed');
    given(s.events).when(ok('c', 1)).thenNothing();
  });
});
