/**
 * The workflow event catalogue: every fact written to a `workflow-<id>` stream. One zod schema per
 * type; each type has a schema version (written by the runtime as `metadata.schemaVersion`) so old
 * events can be upcast when a schema changes. Every event carries the workflow id and the decision
 * time `at` (epoch ms), so an auditor can read it alone. See docs/events.md.
 */
import { z } from 'zod';
import { parse as parseUuid } from 'uuid';
import { uuidV5 } from './uuid-v5.js';
import type { Json } from '../workflow/json.js';
import { workflowDefinitionSchema, type WorkflowDefinition } from '../workflow/definition.js';

/**
 * Event payloads (inputs, outputs, workflow data) are JSON by construction: written through the
 * store's JSON check, read back from JSON text. Checking them deeply again on every read cost more
 * than everything else in parsing an event, so they are only required to be present.
 */
const jsonPayload = z.custom<Json>((value) => value !== undefined, 'must be a JSON value');

/** Workflow priorities: higher is admitted first (docs/scaling.md, "The backlog"). */
export const MIN_PRIORITY = -100;
export const MAX_PRIORITY = 100;
export const prioritySchema = z.number().int().min(MIN_PRIORITY).max(MAX_PRIORITY);

const base = { workflowId: z.string().min(1), at: z.number().int() };
const stepRef = { ...base, stepId: z.string().min(1) };
const attempt = z.number().int().min(1);

export const stepErrorSchema = z.strictObject({
  message: z.string(),
  code: z.string().optional(),
  /** False when trying again cannot help (bad input, mapping error, business rejection). */
  retryable: z.boolean(),
});
export type StepError = z.output<typeof stepErrorSchema>;

/** Why compensation runs: a step failed for good, an operator asked to compensate, or to cancel. */
export const compensationCauseSchema = z.enum(['failure', 'command', 'cancel']);
export type CompensationCause = z.output<typeof compensationCauseSchema>;

const call = {
  attempt,
  agentId: z.string().min(1),
  action: z.string().min(1),
  capability: z.string().min(1),
  input: jsonPayload,
  /** Epoch ms after which the attempt counts as timed out. */
  deadline: z.number().int(),
  /**
   * Names the logical operation, not the attempt: `workflowId:stepId` for a step (every attempt and
   * every re-send carries it; `workflowId:stepId:attempt` for a step with `perAttempt` keys),
   * `workflowId:stepId:compensate` for a compensation. Events written before keys named the
   * operation carry `…:attempt` and `…:compensate:attempt`; they are read as they were written.
   */
  idempotencyKey: z.string().min(1),
};

/**
 * An attempt in flight when its runtime stopped (a crash, a restart) is sent again, with the same
 * key, by the runtime that takes the workflow over: it is not a failed attempt and does not wait
 * for its timeout. The new deadline counts from the re-send.
 */
const resumed = {
  attempt,
  agentId: z.string().min(1),
  deadline: z.number().int(),
  idempotencyKey: z.string().min(1),
  reason: z.string(),
};

export const eventDataSchemas = {
  WorkflowStarted: z.strictObject({
    ...base,
    definition: workflowDefinitionSchema,
    definitionHash: z.string().min(1),
    input: jsonPayload,
    /** Workflow data at the start: the definition's initial data plus `input`. */
    data: jsonPayload,
    /** Admission order among queued workflows, higher first. Absent: 0 (and in events older than priorities). */
    priority: prioritySchema.optional(),
    /**
     * The start was stored without a slot: the workflow waits in the backlog until a WorkflowAdmitted.
     * Absent (and in older events): admitted at once, as every start was before the backlog was durable.
     */
    queued: z.literal(true).optional(),
  }),
  /** A queued workflow got a slot: it runs from here (its ready steps are scheduled in the same decision). */
  WorkflowAdmitted: z.strictObject({ ...base }),
  StepScheduled: z.strictObject({ ...stepRef, ...call }),
  StepResumed: z.strictObject({ ...stepRef, ...resumed }),
  /**
   * The agent accepted the attempt as a long-running remote task (an A2A task) with this id. A
   * runtime that re-sends the attempt after a restart follows this task instead of sending the
   * message again. Recorded once per task id; a re-send to another agent starts over without one.
   */
  StepTaskAccepted: z.strictObject({ ...stepRef, attempt, agentId: z.string().min(1), taskId: z.string().min(1) }),
  /**
   * No live agent has the step's capability: the attempt waits, durably and visibly, until one is
   * available (or the step's scheduleToStartTimeoutMs passes). Not a failure, costs no attempt.
   */
  StepWaitingForAgent: z.strictObject({ ...stepRef, attempt, capability: z.string().min(1) }),
  StepSucceeded: z.strictObject({ ...stepRef, attempt, agentId: z.string(), output: jsonPayload, durationMs: z.number().int().min(0) }),
  /** `agentId` is absent when no agent could be asked (no candidate, input mapping failed). */
  StepFailed: z.strictObject({ ...stepRef, attempt, agentId: z.string().optional(), error: stepErrorSchema }),
  StepTimedOut: z.strictObject({ ...stepRef, attempt, agentId: z.string(), deadline: z.number().int() }),
  StepRetryScheduled: z.strictObject({ ...stepRef, nextAttempt: attempt, notBefore: z.number().int(), delayMs: z.number().int().min(0), reason: z.string() }),
  StepSkipped: z.strictObject({ ...stepRef, attempts: z.number().int().min(0), reason: z.string() }),
  WorkflowPaused: z.strictObject({ ...base, round: z.number().int().min(1), stepId: z.string().optional(), reason: z.string() }),
  WorkflowResumed: z.strictObject({ ...base, round: z.number().int().min(1), retrySteps: z.array(z.string()) }),
  CompensationStarted: z.strictObject({
    ...base,
    cause: compensationCauseSchema,
    reason: z.string(),
    failedStepId: z.string().optional(),
    /** Steps that succeeded and have a compensation, at the time compensation started. */
    toCompensate: z.array(z.string()),
  }),
  CompensationScheduled: z.strictObject({
    ...stepRef,
    ...call,
    /** The keys under which the step's action may have run, oldest first (absent in older events). */
    compensates: z.array(z.string()).optional(),
  }),
  CompensationResumed: z.strictObject({ ...stepRef, ...resumed }),
  CompensationWaitingForAgent: z.strictObject({ ...stepRef, attempt, capability: z.string().min(1) }),
  CompensationSucceeded: z.strictObject({ ...stepRef, attempt, agentId: z.string(), output: jsonPayload, durationMs: z.number().int().min(0) }),
  CompensationFailed: z.strictObject({ ...stepRef, attempt, agentId: z.string().optional(), error: stepErrorSchema }),
  CompensationRetryScheduled: z.strictObject({ ...stepRef, nextAttempt: attempt, notBefore: z.number().int(), delayMs: z.number().int().min(0), reason: z.string() }),
  WorkflowCompleted: z.strictObject({ ...base, data: jsonPayload, skippedSteps: z.array(z.string()), durationMs: z.number().int().min(0) }),
  WorkflowFailed: z.strictObject({ ...base, reason: z.string(), failedStepId: z.string().optional(), error: stepErrorSchema.optional() }),
  WorkflowCompensated: z.strictObject({ ...base, cause: compensationCauseSchema, reason: z.string(), compensatedSteps: z.array(z.string()) }),
  WorkflowCompensationFailed: z.strictObject({
    ...base,
    cause: compensationCauseSchema,
    reason: z.string(),
    compensatedSteps: z.array(z.string()),
    /** Compensations that failed for good. */
    failedSteps: z.array(z.string()),
    /** Compensations never run because a step depending on them could not be compensated. */
    blockedSteps: z.array(z.string()),
    lastError: stepErrorSchema.optional(),
  }),
  WorkflowCancelled: z.strictObject({ ...base, reason: z.string(), compensatedSteps: z.array(z.string()) }),
  /**
   * An operator asked to compensate a workflow whose compensation failed: the failed and blocked
   * compensations get a fresh round of attempts, in the usual order.
   */
  CompensationRetried: z.strictObject({ ...base, round: z.number().int().min(2), reason: z.string(), retrySteps: z.array(z.string()) }),
  /** An operator resolved a failed compensation by hand (what was left undone, and how, is in the note). Final. */
  WorkflowResolved: z.strictObject({ ...base, note: z.string().min(1), unresolvedSteps: z.array(z.string()) }),
} as const;

export type WorkflowEventType = keyof typeof eventDataSchemas;
export const workflowEventTypes = Object.keys(eventDataSchemas) as WorkflowEventType[];

/** The events that end a workflow (WorkflowCompensationFailed too, though a new round of compensation may follow). */
export const terminalEventTypes: ReadonlySet<string> = new Set<WorkflowEventType>(['WorkflowCompleted', 'WorkflowFailed', 'WorkflowCompensated', 'WorkflowCompensationFailed', 'WorkflowCancelled', 'WorkflowResolved']);

/**
 * Current schema version of each event type; bump one and add an upcaster when its data changes.
 * WorkflowStarted 2: the definition is stored once per hash (`definition-<hex>`) and the event refers
 * to it by `definitionHash` (see `storedWorkflowStartedSchema`); version 1 carried it inline.
 */
export const eventSchemaVersions: Readonly<Record<WorkflowEventType, number>> = Object.fromEntries(
  workflowEventTypes.map((type) => [type, type === 'WorkflowStarted' ? 2 : 1]),
) as Record<WorkflowEventType, number>;

/** WorkflowStarted as stored since version 2: the definition by reference (its hash), not inline. */
export const storedWorkflowStartedSchema = eventDataSchemas.WorkflowStarted.omit({ definition: true });

/** The definition stored under a hash, if this process has it (definitions are content-addressed). */
export type DefinitionLookup = (definitionHash: string) => WorkflowDefinition | undefined;

export type WorkflowEventData<T extends WorkflowEventType> = z.output<(typeof eventDataSchemas)[T]>;

/** One workflow event: its deterministic id, its type and its data. */
export type WorkflowEvent = { [T in WorkflowEventType]: { readonly id: string; readonly type: T; readonly data: WorkflowEventData<T> } }[WorkflowEventType];
export type WorkflowEventOf<T extends WorkflowEventType> = Extract<WorkflowEvent, { type: T }>;

export function isWorkflowEventType(type: string): type is WorkflowEventType {
  return Object.prototype.hasOwnProperty.call(eventDataSchemas, type);
}

/** A stored event could not be read as a workflow event. */
export class EventParseError extends Error {
  constructor(
    readonly eventType: string,
    message: string,
  ) {
    super(message);
    this.name = 'EventParseError';
  }
}

/**
 * Upcasters: `upcasters[type][v]` turns version-v data into version v+1.
 * WorkflowStarted 1 -> 2: nothing to change; an inline definition is read as it is.
 */
const upcasters: Partial<Record<WorkflowEventType, Record<number, (data: unknown) => unknown>>> = { WorkflowStarted: { 1: (data) => data } };

/**
 * Reads a stored event: upcasts its data from `metadata.schemaVersion` (1 when absent) to the
 * current version, then validates it. Throws `EventParseError` for unknown types, unknown versions
 * and invalid data, naming the field. A WorkflowStarted that refers to its definition by hash gets
 * it from `definitions` (already validated: it is not checked again); one that carries it inline
 * (version 1, and tests that write the domain event as is) is read as it is.
 */
export function parseWorkflowEvent(type: string, data: unknown, metadata?: unknown, id = '', definitions?: DefinitionLookup): WorkflowEvent {
  if (!isWorkflowEventType(type)) throw new EventParseError(type, `Unknown workflow event type "${type}"`);
  const current = eventSchemaVersions[type];
  const declared = (metadata as { schemaVersion?: unknown } | undefined)?.schemaVersion ?? 1;
  if (typeof declared !== 'number' || !Number.isInteger(declared) || declared < 1 || declared > current) {
    throw new EventParseError(type, `Unsupported schema version ${String(declared)} for ${type} (this build reads 1..${current})`);
  }
  let upcast = data;
  for (let version = declared; version < current; version++) {
    const step = upcasters[type]?.[version];
    if (!step) throw new EventParseError(type, `No upcaster for ${type} from schema version ${version}`);
    upcast = step(upcast);
  }
  if (type === 'WorkflowStarted' && !hasInlineDefinition(upcast)) return startedByReference(upcast, id, definitions);
  const parsed = eventDataSchemas[type].safeParse(upcast);
  if (!parsed.success) {
    const detail = parsed.error.issues.map((issue) => `${issue.path.join('.') || '(data)'}: ${issue.message}`).join('; ');
    throw new EventParseError(type, `Invalid ${type} event data: ${detail}`);
  }
  return { id, type, data: parsed.data } as WorkflowEvent;
}

function hasInlineDefinition(data: unknown): boolean {
  return typeof data === 'object' && data !== null && 'definition' in data;
}

function startedByReference(data: unknown, id: string, definitions: DefinitionLookup | undefined): WorkflowEvent {
  const parsed = storedWorkflowStartedSchema.safeParse(data);
  if (!parsed.success) {
    const detail = parsed.error.issues.map((issue) => `${issue.path.join('.') || '(data)'}: ${issue.message}`).join('; ');
    throw new EventParseError('WorkflowStarted', `Invalid WorkflowStarted event data: ${detail}`);
  }
  const definition = definitions?.(parsed.data.definitionHash);
  if (definition === undefined) throw new EventParseError('WorkflowStarted', `WorkflowStarted refers to definition ${parsed.data.definitionHash}, which is not loaded`);
  return { id, type: 'WorkflowStarted', data: { ...parsed.data, definition } };
}

/** Namespace of decision event ids (uuid v5). Never change it: ids of stored events depend on it. */
export const EVENT_ID_NAMESPACE = '3f0c8a52-6d0e-5c7b-9a4e-2b1d7c9e8f10';
const namespaceBytes = parseUuid(EVENT_ID_NAMESPACE); // parsed once, not on every id

/**
 * Deterministic event id: uuid v5 of the workflow, the event type, the step, the attempt (or the
 * pause/resume round) and the decider (the runtime instance that decided it). Deciding the same
 * thing again in the same runtime gives the same id, so a retried append is recognised by the store
 * as the same fact. Two runtimes deciding the same transition (both timers fired) give different
 * ids: exactly one append wins, the other gets a wrong-expected-version conflict, and only the
 * winner calls the agent. (Without the decider, the loser's append would be taken as an idempotent
 * repeat of the winner's and both would call the agent.)
 */
export function eventId(workflowId: string, type: WorkflowEventType, stepId = '', attemptOrRound = 0, deciderId = ''): string {
  return uuidV5(`${workflowId}\u0000${type}\u0000${stepId}\u0000${attemptOrRound}\u0000${deciderId}`, namespaceBytes);
}
