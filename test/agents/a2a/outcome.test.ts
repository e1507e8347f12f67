/**
 * src/agents/a2a/outcome.ts: docs/agents.md's table "Task states onto outcomes", row by row, with
 * the reason a failure carries (the agent's own words when it gave any) and the status metadata
 * names spelled out.
 */
import { Role, TaskState, type Artifact, type Task } from '@a2a-js/sdk';
import { describe, expect, it } from 'vitest';
import { taskOutcome } from '../../../src/agents/a2a/outcome.js';
import { dataPart, textPart } from '../../../src/agents/a2a/wire.js';

const agent = 'agent "pay" (http://pay)';

function task(state: TaskState | undefined, said?: { text?: string; metadata?: Record<string, unknown> }, artifacts: Artifact[] = []): Task {
  const message = said === undefined ? undefined : { messageId: 's', contextId: '', taskId: 't-1', role: Role.ROLE_AGENT, parts: said.text === undefined ? [] : [textPart(said.text)], metadata: said.metadata, extensions: [], referenceTaskIds: [] };
  return { id: 't-1', contextId: 'c', status: state === undefined ? undefined : { state, message, timestamp: undefined }, artifacts, history: [], metadata: undefined };
}

const result = (value: unknown): Artifact => ({ artifactId: 'a', name: 'result', description: '', parts: [dataPart(value as null)], metadata: undefined, extensions: [] });

describe('task states onto outcomes', () => {
  it('completed: success with the result artifact\'s output, null without one', () => {
    expect(taskOutcome(task(TaskState.TASK_STATE_COMPLETED, undefined, [result({ paid: 12 })]), agent)).toEqual({ ok: true, output: { paid: 12 } });
    expect(taskOutcome(task(TaskState.TASK_STATE_COMPLETED), agent)).toEqual({ ok: true, output: null });
  });

  it('failed: the agent\'s code and retryability from the status metadata, else task-failed and retryable', () => {
    expect(taskOutcome(task(TaskState.TASK_STATE_FAILED, { text: 'card declined', metadata: { 'cadenza.errorCode': 'declined', 'cadenza.retryable': false } }), agent))
      .toEqual({ ok: false, error: { message: 'agent "pay" (http://pay): card declined (task t-1)', code: 'declined', retryable: false } });
    expect(taskOutcome(task(TaskState.TASK_STATE_FAILED, { metadata: { 'cadenza.retryable': true } }), agent))
      .toEqual({ ok: false, error: { message: 'agent "pay" (http://pay): the task failed (task t-1)', code: 'task-failed', retryable: true } });
    // Metadata of the wrong type is not taken: a code must be a string, retryability a boolean.
    expect(taskOutcome(task(TaskState.TASK_STATE_FAILED, { metadata: { 'cadenza.errorCode': 42, 'cadenza.retryable': 'false' } }), agent))
      .toEqual({ ok: false, error: { message: 'agent "pay" (http://pay): the task failed (task t-1)', code: 'task-failed', retryable: true } });
    expect(taskOutcome(task(TaskState.TASK_STATE_FAILED), agent)).toEqual({ ok: false, error: { message: 'agent "pay" (http://pay): the task failed (task t-1)', code: 'task-failed', retryable: true } });
  });

  it('rejected: task-rejected, not retryable; canceled: task-canceled, retryable', () => {
    expect(taskOutcome(task(TaskState.TASK_STATE_REJECTED), agent)).toEqual({ ok: false, error: { message: 'agent "pay" (http://pay): the agent rejected the task (task t-1)', code: 'task-rejected', retryable: false } });
    expect(taskOutcome(task(TaskState.TASK_STATE_REJECTED, { text: 'unknown action "x"' }), agent)).toMatchObject({ error: { message: 'agent "pay" (http://pay): unknown action "x" (task t-1)' } });
    expect(taskOutcome(task(TaskState.TASK_STATE_CANCELED), agent)).toEqual({ ok: false, error: { message: 'agent "pay" (http://pay): the task was cancelled (task t-1)', code: 'task-canceled', retryable: true } });
  });

  it('input-required and auth-required: failures coded as such, not retryable (the workflow waits for an operator)', () => {
    expect(taskOutcome(task(TaskState.TASK_STATE_INPUT_REQUIRED), agent)).toEqual({ ok: false, error: { message: 'agent "pay" (http://pay): the agent needs input (task t-1)', code: 'input-required', retryable: false } });
    expect(taskOutcome(task(TaskState.TASK_STATE_INPUT_REQUIRED, { text: 'approve the refund' }), agent)).toMatchObject({ error: { message: 'agent "pay" (http://pay): approve the refund (task t-1)' } });
    expect(taskOutcome(task(TaskState.TASK_STATE_AUTH_REQUIRED), agent)).toEqual({ ok: false, error: { message: 'agent "pay" (http://pay): the agent needs credentials (task t-1)', code: 'auth-required', retryable: false } });
  });

  it('submitted and working: no outcome yet (the task is followed)', () => {
    expect(taskOutcome(task(TaskState.TASK_STATE_SUBMITTED), agent)).toBeUndefined();
    expect(taskOutcome(task(TaskState.TASK_STATE_WORKING, { text: 'halfway' }), agent)).toBeUndefined();
  });

  it('a state it does not know, or none: an invalid result, retryable', () => {
    expect(taskOutcome(task(TaskState.UNRECOGNIZED), agent)).toEqual({ ok: false, error: { message: 'agent "pay" (http://pay): task t-1 is in an unknown state (-1)', code: 'invalid-result', retryable: true } });
    expect(taskOutcome(task(undefined), agent)).toEqual({ ok: false, error: { message: 'agent "pay" (http://pay): task t-1 is in an unknown state (0)', code: 'invalid-result', retryable: true } });
  });
});
