/**
 * src/agents/a2a/wire.ts without a peer: how a call looks as an A2A message (the metadata names of
 * docs/agents.md, spelled out here rather than read from the module), what the agent side reads
 * back from a message, and where a task's output and failure reason are found.
 */
import { Role, TaskState, type Artifact, type Message, type Part, type Task } from '@a2a-js/sdk';
import { describe, expect, it } from 'vitest';
import { FINAL_STATES, INTERRUPTED_STATES, callFromMessage, callMessage, dataPart, outputOf, resultArtifact, statusText, textPart } from '../../../src/agents/a2a/wire.js';
import type { AgentCall } from '../../../src/agents/index.js';

const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const deadline = Date.parse('2026-12-01T10:00:00.000Z');
const call: AgentCall = { workflowId: 'order-7', stepId: 'charge', attempt: 2, action: 'charge-card', input: { amount: 12 }, idempotencyKey: 'order-7:charge', deadline, kind: 'step' };

function message(metadata: Record<string, unknown> | undefined, parts: Part[] = [dataPart({ amount: 12 })]): Message {
  return { messageId: 'm', contextId: '', taskId: '', role: Role.ROLE_USER, parts, metadata, extensions: [], referenceTaskIds: [] };
}

const complete = { 'cadenza.action': 'charge-card', 'cadenza.idempotencyKey': 'order-7:charge' };

function task(artifacts: Artifact[], status?: Task['status']): Task {
  return { id: 't-1', contextId: 'c', status, artifacts, history: [], metadata: undefined };
}

function artifact(name: string, parts: Part[]): Artifact {
  return { artifactId: name, name, description: '', parts, metadata: undefined, extensions: [] };
}

describe('a call as an A2A message', () => {
  it('carries the input as its one data part and the call\'s identity under the documented metadata names', () => {
    const sent = callMessage(call);
    expect(sent).toEqual({
      messageId: expect.stringMatching(uuid) as unknown,
      contextId: '',
      taskId: '',
      role: Role.ROLE_USER,
      parts: [{ content: { $case: 'data', value: { amount: 12 } }, metadata: undefined, filename: '', mediaType: 'application/json' }],
      metadata: {
        'cadenza.idempotencyKey': 'order-7:charge',
        'cadenza.attempt': 2,
        'cadenza.deadline': '2026-12-01T10:00:00.000Z',
        'cadenza.workflowId': 'order-7',
        'cadenza.stepId': 'charge',
        'cadenza.action': 'charge-card',
        'cadenza.kind': 'step',
      },
      extensions: [],
      referenceTaskIds: [],
    });
    expect(callMessage(call).messageId).not.toBe(sent.messageId);
  });

  it('names the task it continues, and lists what a compensation undoes', () => {
    const compensation: AgentCall = { ...call, kind: 'compensation', compensates: ['order-7:charge', 'order-7:charge-again'] };
    const sent = callMessage(compensation, 'task-9');
    expect(sent.taskId).toBe('task-9');
    expect(sent.metadata).toMatchObject({ 'cadenza.kind': 'compensation', 'cadenza.compensates': ['order-7:charge', 'order-7:charge-again'] });
    // A copy: the call's own list is not handed to the SDK.
    expect((sent.metadata as Record<string, unknown>)['cadenza.compensates']).not.toBe(compensation.compensates);
  });

  it('reads back the call it was made from', () => {
    expect(callFromMessage(callMessage(call))).toEqual(call);
    const compensation: AgentCall = { ...call, kind: 'compensation', compensates: ['order-7:charge'] };
    expect(callFromMessage(callMessage(compensation))).toEqual(compensation);
  });

  it('marks text and data parts with their media types', () => {
    expect(textPart('hello')).toEqual({ content: { $case: 'text', value: 'hello' }, metadata: undefined, filename: '', mediaType: 'text/plain' });
    expect(dataPart([1, 'two'])).toEqual({ content: { $case: 'data', value: [1, 'two'] }, metadata: undefined, filename: '', mediaType: 'application/json' });
  });
});

describe('the call a message carries (the agent side)', () => {
  it('needs an action and an idempotency key, as non-empty strings, and says which is missing', () => {
    const noAction = 'message metadata "cadenza.action" is missing: name the action to run';
    const noKey = 'message metadata "cadenza.idempotencyKey" is missing';
    expect(callFromMessage(message(undefined))).toBe(noAction);
    expect(callFromMessage(message({ 'cadenza.idempotencyKey': 'k' }))).toBe(noAction);
    expect(callFromMessage(message({ 'cadenza.action': '', 'cadenza.idempotencyKey': 'k' }))).toBe(noAction);
    expect(callFromMessage(message({ 'cadenza.action': ['charge-card'], 'cadenza.idempotencyKey': 'k' }))).toBe(noAction);
    expect(callFromMessage(message({ 'cadenza.action': 'charge-card' }))).toBe(noKey);
    expect(callFromMessage(message({ 'cadenza.action': 'charge-card', 'cadenza.idempotencyKey': '' }))).toBe(noKey);
    expect(callFromMessage(message({ 'cadenza.action': 'charge-card', 'cadenza.idempotencyKey': 7 }))).toBe(noKey);
  });

  it('fills in what a foreign caller left out: attempt 1, no deadline, a step, empty workflow and step ids, null input', () => {
    expect(callFromMessage(message(complete, [textPart('no data here')]))).toEqual({
      workflowId: '', stepId: '', attempt: 1, action: 'charge-card', input: null, idempotencyKey: 'order-7:charge', deadline: Number.MAX_SAFE_INTEGER, kind: 'step',
    });
  });

  it('takes the attempt only as an integer of at least 1', () => {
    const attemptOf = (attempt: unknown): number => (callFromMessage(message({ ...complete, 'cadenza.attempt': attempt })) as AgentCall).attempt;
    expect(attemptOf(3)).toBe(3);
    expect(attemptOf(1)).toBe(1);
    expect([0, -2, 2.5, '3', null, Number.NaN].map(attemptOf)).toEqual([1, 1, 1, 1, 1, 1]);
  });

  it('reads the deadline as ISO 8601, and a deadline it cannot read as none', () => {
    const deadlineOf = (text: unknown): number => (callFromMessage(message({ ...complete, 'cadenza.deadline': text })) as AgentCall).deadline;
    expect(deadlineOf('2026-12-01T10:00:00.000Z')).toBe(deadline);
    expect(deadlineOf('not a date')).toBe(Number.MAX_SAFE_INTEGER);
    expect(deadlineOf(deadline)).toBe(Number.MAX_SAFE_INTEGER);
  });

  it('takes the input from the first data part, after any text, and refuses data that is not plain JSON', () => {
    const parts: Part[] = [textPart('first a note'), { content: undefined, metadata: undefined, filename: '', mediaType: '' }, dataPart({ n: 1 }), dataPart({ n: 2 })];
    expect((callFromMessage(message(complete, parts)) as AgentCall).input).toEqual({ n: 1 });
    expect(callFromMessage(message(complete, [{ ...dataPart(null), content: { $case: 'data', value: { at: new Date(0) } } } as Part]))).toBe('the data part is not plain JSON');
  });

  it('reads the kind as a compensation only when it says so, and compensated keys only as a list of strings', () => {
    const read = (metadata: Record<string, unknown>): AgentCall => callFromMessage(message({ ...complete, ...metadata })) as AgentCall;
    expect(read({ 'cadenza.kind': 'compensation', 'cadenza.compensates': ['a', 'b'] })).toMatchObject({ kind: 'compensation', compensates: ['a', 'b'] });
    expect(read({ 'cadenza.kind': 'Compensation' }).kind).toBe('step');
    expect(read({ 'cadenza.compensates': ['a', 2] })).not.toHaveProperty('compensates');
    expect(read({ 'cadenza.compensates': 'a' })).not.toHaveProperty('compensates');
    expect(read({ 'cadenza.compensates': [] })).toHaveProperty('compensates', []);
    expect(read({ 'cadenza.workflowId': 'w', 'cadenza.stepId': 's' })).toMatchObject({ workflowId: 'w', stepId: 's' });
  });
});

describe('a task\'s output and reason', () => {
  it('puts the output in an artifact named result, with a fresh id', () => {
    const made = resultArtifact({ ok: true });
    expect(made).toEqual({ artifactId: expect.stringMatching(uuid) as unknown, name: 'result', description: 'the step output', parts: [dataPart({ ok: true })], metadata: undefined, extensions: [] });
    expect(resultArtifact(null).artifactId).not.toBe(made.artifactId);
  });

  it('reads the output from the result artifact first, else from any artifact, skipping text and data that is not JSON', () => {
    const other = artifact('notes', [dataPart('from notes')]);
    expect(outputOf(task([other, artifact('result', [textPart('see data'), dataPart({ from: 'result' })])]))).toEqual({ found: true, output: { from: 'result' } });
    expect(outputOf(task([artifact('result', [textPart('nothing here')]), other]))).toEqual({ found: true, output: 'from notes' });
    const notJson = { content: { $case: 'data', value: { f: Number.NaN } }, metadata: undefined, filename: '', mediaType: 'application/json' } as Part;
    expect(outputOf(task([artifact('result', [notJson, dataPart(0)])]))).toEqual({ found: true, output: 0 });
    expect(outputOf(task([artifact('result', [notJson])]))).toEqual({ found: false });
    // A part without content (a peer's odd answer) is skipped, not a crash.
    expect(outputOf(task([artifact('result', [{ content: undefined, metadata: undefined, filename: '', mediaType: '' }, dataPart('after it')])]))).toEqual({ found: true, output: 'after it' });
    expect(outputOf(task([]))).toEqual({ found: false });
  });

  it('reads the reason as the status message\'s text parts, joined and trimmed', () => {
    const status = (parts: Part[]): Task['status'] => ({ state: TaskState.TASK_STATE_FAILED, timestamp: undefined, message: { ...message(undefined), role: Role.ROLE_AGENT, parts } });
    expect(statusText(task([], status([textPart(' card'), dataPart({ code: 1 }), { content: undefined, metadata: undefined, filename: '', mediaType: '' }, textPart('declined ')])))).toBe('card declined');
    expect(statusText(task([], { state: TaskState.TASK_STATE_FAILED, timestamp: undefined, message: undefined }))).toBe('');
    expect(statusText(task([]))).toBe('');
  });
});

describe('task states', () => {
  it('ends a call on completed, failed, canceled and rejected, stops it for someone on input-required and auth-required, and follows the rest', () => {
    const all = [TaskState.TASK_STATE_UNSPECIFIED, TaskState.TASK_STATE_SUBMITTED, TaskState.TASK_STATE_WORKING, TaskState.TASK_STATE_COMPLETED, TaskState.TASK_STATE_FAILED, TaskState.TASK_STATE_CANCELED, TaskState.TASK_STATE_INPUT_REQUIRED, TaskState.TASK_STATE_REJECTED, TaskState.TASK_STATE_AUTH_REQUIRED];
    expect(all.filter((state) => FINAL_STATES.has(state))).toEqual([TaskState.TASK_STATE_COMPLETED, TaskState.TASK_STATE_FAILED, TaskState.TASK_STATE_CANCELED, TaskState.TASK_STATE_REJECTED]);
    expect(all.filter((state) => INTERRUPTED_STATES.has(state))).toEqual([TaskState.TASK_STATE_INPUT_REQUIRED, TaskState.TASK_STATE_AUTH_REQUIRED]);
  });
});
