/**
 * How a cadenza agent call looks in A2A, on both sides of the wire: the step's input as a data
 * part of a message, the call's identity in the message metadata under the names below
 * (docs/agents.md), and the step's output as the data part of the task's `result` artifact. One
 * module, so the client (transport.ts) and the agent side (serve-agent.ts) cannot drift apart.
 */
import { randomUUID } from 'node:crypto';
import { Role, TaskState, type Artifact, type Message, type Part, type Task } from '@a2a-js/sdk';
import type { Json } from '../../store/port.js';
import { isJson } from '../../store/validation.js';
import type { AgentCall, CallKind } from '../transport.js';

/** Message metadata names (documented in docs/agents.md; never rename: remote agents read them). */
export const CALL_METADATA = {
  idempotencyKey: 'cadenza.idempotencyKey',
  attempt: 'cadenza.attempt',
  /** ISO 8601: when the caller stops waiting. */
  deadline: 'cadenza.deadline',
  workflowId: 'cadenza.workflowId',
  stepId: 'cadenza.stepId',
  action: 'cadenza.action',
  kind: 'cadenza.kind',
  compensates: 'cadenza.compensates',
} as const;

/** Status-message metadata of a failed task: the error code and whether another attempt may help. */
export const FAILURE_METADATA = { code: 'cadenza.errorCode', retryable: 'cadenza.retryable' } as const;

/** The artifact that carries a completed task's output. */
export const RESULT_ARTIFACT = 'result';

export const JSON_MEDIA_TYPE = 'application/json';

export function dataPart(value: Json): Part {
  return { content: { $case: 'data', value }, metadata: undefined, filename: '', mediaType: JSON_MEDIA_TYPE };
}

export function textPart(text: string): Part {
  return { content: { $case: 'text', value: text }, metadata: undefined, filename: '', mediaType: 'text/plain' };
}

/** The message that carries a call: input as a data part, identity in the metadata. */
export function callMessage(call: AgentCall, taskId = ''): Message {
  return {
    messageId: randomUUID(),
    contextId: '',
    taskId,
    role: Role.ROLE_USER,
    parts: [dataPart(call.input)],
    metadata: {
      [CALL_METADATA.idempotencyKey]: call.idempotencyKey,
      [CALL_METADATA.attempt]: call.attempt,
      [CALL_METADATA.deadline]: new Date(call.deadline).toISOString(),
      [CALL_METADATA.workflowId]: call.workflowId,
      [CALL_METADATA.stepId]: call.stepId,
      [CALL_METADATA.action]: call.action,
      [CALL_METADATA.kind]: call.kind,
      ...(call.compensates ? { [CALL_METADATA.compensates]: [...call.compensates] } : {}),
    },
    extensions: [],
    referenceTaskIds: [],
  };
}

/** The call a message carries, or what is wrong with it (one line, naming the field). */
export function callFromMessage(message: Message): AgentCall | string {
  const meta = (message.metadata ?? {}) as Record<string, unknown>;
  // An empty string reads as missing below: `!action`, `?? ''`, and Date.parse('') is NaN.
  const text = (name: string): string | undefined => (typeof meta[name] === 'string' ? meta[name] : undefined);
  const action = text(CALL_METADATA.action);
  if (!action) return `message metadata "${CALL_METADATA.action}" is missing: name the action to run`;
  const idempotencyKey = text(CALL_METADATA.idempotencyKey);
  if (!idempotencyKey) return `message metadata "${CALL_METADATA.idempotencyKey}" is missing`;
  const attempt = meta[CALL_METADATA.attempt];
  const deadline = Date.parse(text(CALL_METADATA.deadline) ?? '');
  const input = message.parts.find((part) => part.content?.$case === 'data')?.content?.value as unknown;
  if (input !== undefined && !isJson(input)) return 'the data part is not plain JSON';
  const kind: CallKind = meta[CALL_METADATA.kind] === 'compensation' ? 'compensation' : 'step';
  const compensates = meta[CALL_METADATA.compensates];
  return {
    workflowId: text(CALL_METADATA.workflowId) ?? '',
    stepId: text(CALL_METADATA.stepId) ?? '',
    attempt: Number.isInteger(attempt) ? Math.max(attempt as number, 1) : 1,
    action,
    input: (input ?? null) as Json,
    idempotencyKey,
    deadline: Number.isFinite(deadline) ? deadline : Number.MAX_SAFE_INTEGER,
    kind,
    ...(Array.isArray(compensates) && compensates.every((k) => typeof k === 'string') ? { compensates: compensates as string[] } : {}),
  };
}

export function resultArtifact(output: Json): Artifact {
  return { artifactId: randomUUID(), name: RESULT_ARTIFACT, description: 'the step output', parts: [dataPart(output)], metadata: undefined, extensions: [] };
}

/** The output in a task's result artifact (the first data part of the artifact named `result`, else of any artifact). */
export function outputOf(task: Task): { found: true; output: Json } | { found: false } {
  const fromResult = firstData(task.artifacts.filter((artifact) => artifact.name === RESULT_ARTIFACT));
  return fromResult.found ? fromResult : firstData(task.artifacts);
}

function firstData(artifacts: readonly Artifact[]): { found: true; output: Json } | { found: false } {
  for (const artifact of artifacts) {
    for (const part of artifact.parts) {
      if (part.content?.$case === 'data' && isJson(part.content.value)) return { found: true, output: part.content.value };
    }
  }
  return { found: false };
}

/** The text of a status message, for failure reasons. */
export function statusText(task: Task): string {
  const texts = task.status?.message?.parts.flatMap((part) => (part.content?.$case === 'text' ? [part.content.value] : []));
  return (texts ?? []).join(' ').trim();
}

export const FINAL_STATES: ReadonlySet<TaskState> = new Set([TaskState.TASK_STATE_COMPLETED, TaskState.TASK_STATE_FAILED, TaskState.TASK_STATE_CANCELED, TaskState.TASK_STATE_REJECTED]);
/** States in which the agent waits for someone: the call ends, the task does not. */
export const INTERRUPTED_STATES: ReadonlySet<TaskState> = new Set([TaskState.TASK_STATE_INPUT_REQUIRED, TaskState.TASK_STATE_AUTH_REQUIRED]);
