/**
 * Fork: a new workflow that starts from another's state at a revision. It is decided by the core
 * itself: a start command with the same definition snapshot and input, then, for every step that
 * had succeeded at that revision, its recorded output fed back as the result of its attempt. So
 * completed steps keep their outputs, everything else runs again, and the new history is exactly
 * one the engine could have written. The fork shares the original's correlation id and records
 * where it came from in the metadata of its WorkflowStarted.
 */
import { randomUUID } from 'node:crypto';
import { decide } from '../saga/decide.js';
import { evolve } from '../saga/evolve.js';
import type { WorkflowEvent } from '../saga/events.js';
import { initialState, stepState, stepStates, type WorkflowState } from '../saga/state.js';
import type { DecisionContext, Trigger } from '../saga/triggers.js';
import { appendNewWorkflow, replaySteps, toEventDataList, workflowStream } from '../saga/stream/index.js';
import { StreamNotFoundError } from '../store/errors.js';
import { metadataObject, type EventData, type EventStore } from '../store/port.js';
import type { WorkflowDefinition } from '../workflow/definition.js';
import type { Json } from '../workflow/json.js';
import { AgentUsage } from './agent-usage.js';

export class ForkError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ForkError';
  }
}

export interface ForkOptions {
  /** Default: `<source>-fork-<revision>-<8 random hex>`. */
  readonly workflowId?: string;
  /** Epoch ms of the fork's decisions. Default: now. */
  readonly now?: number;
  /** Agents to schedule the steps that run again on; default: the agents the source used per capability (in its whole history). */
  readonly candidates?: (capability: string) => readonly string[];
}

export interface ForkPlan {
  readonly sourceWorkflowId: string;
  readonly fromRevision: bigint;
  readonly workflowId: string;
  readonly correlationId: string;
  /** Decisions to append in order, each atomically. */
  readonly decisions: readonly (readonly EventData[])[];
  /** The fork's state once they are appended. */
  readonly state: WorkflowState;
  /** Steps whose outputs were carried over. */
  readonly reused: readonly string[];
  /** Steps scheduled to run again now (their dependencies are met). */
  readonly scheduled: readonly string[];
  /** The definition the fork's WorkflowStarted refers to (the source's). */
  readonly definition: WorkflowDefinition;
  readonly definitionHash: string;
}

export async function planFork(store: EventStore, sourceWorkflowId: string, fromRevision: bigint, options: ForkOptions = {}): Promise<ForkPlan> {
  let source: WorkflowState = initialState(sourceWorkflowId);
  let correlationId = sourceWorkflowId;
  let causationId = '';
  let reached = -1n;
  for await (const { recorded, state } of replaySteps(store, sourceWorkflowId, { revision: fromRevision })) {
    source = state;
    reached = recorded.revision;
    causationId = recorded.id;
    const recordedCorrelationId = metadataObject(recorded.metadata).correlationId;
    if (recorded.revision === 0n && typeof recordedCorrelationId === 'string') correlationId = recordedCorrelationId;
  }
  if (reached < fromRevision) throw new ForkError(`Workflow ${sourceWorkflowId} has no revision ${fromRevision} (its last is ${reached})`);
  if (source.status === 'idle') throw new ForkError(`Workflow ${sourceWorkflowId} was not started at revision ${fromRevision}`);
  const started = source;

  const workflowId = options.workflowId ?? `${sourceWorkflowId}-fork-${fromRevision}-${randomUUID().slice(0, 8)}`;
  const context: DecisionContext = {
    now: options.now ?? Date.now(),
    // Deterministic: jitter only matters for retries, and a fork's first decisions retry nothing.
    random: () => 0.5,
    candidates: options.candidates ?? (await agentsUsedBy(store, sourceWorkflowId)),
  };
  const outputs = new Map<string, Json>();
  for (const step of stepStates(started)) if (step.status === 'succeeded') outputs.set(step.id, step.output ?? null);

  let state: WorkflowState = initialState(workflowId);
  const decisions: EventData[][] = [];
  let cause = causationId;
  const apply = (trigger: Trigger, extra?: Record<string, string | number>): WorkflowEvent[] => {
    const events = decide(state, trigger, context);
    if (events.length === 0) return events;
    decisions.push(toEventDataList(events, { correlationId, causationId: cause, ...(extra ? { extra } : {}) }));
    for (const event of events) state = evolve(state, event);
    cause = events[events.length - 1]!.id;
    return events;
  };
  apply(
    { kind: 'command', command: { type: 'start', workflowId, definition: started.definition, input: started.input } },
    { forkedFrom: sourceWorkflowId, forkedFromRevision: Number(fromRevision) },
  );
  // Feed recorded outputs back until no running step has one: those are the steps that run again.
  for (;;) {
    const reusable = stepStates(state).find((s) => s.status === 'running' && outputs.has(s.id));
    if (!reusable) break;
    apply({ kind: 'stepResult', stepId: reusable.id, attempt: reusable.attempt, outcome: { ok: true, output: outputs.get(reusable.id) ?? null } });
  }
  const reused = [...outputs.keys()].filter((id) => stepState(state, id)?.status === 'succeeded');
  const scheduled = stepStates(state).filter((s) => s.status === 'running').map((s) => s.id);
  return { sourceWorkflowId, fromRevision, workflowId, correlationId, decisions, state, reused, scheduled, definition: started.definition, definitionHash: started.definitionHash };
}

async function agentsUsedBy(store: EventStore, workflowId: string): Promise<AgentUsage['candidates']> {
  const usage = new AgentUsage();
  for await (const { event } of replaySteps(store, workflowId)) usage.observe(event);
  return usage.candidates;
}

async function streamExists(store: EventStore, stream: string): Promise<boolean> {
  try {
    for await (const _event of store.readStream(stream, { maxCount: 1 })) return true;
  } catch (error) {
    if (error instanceof StreamNotFoundError) return false;
    throw error;
  }
  return false;
}

/** Plans and appends a fork; the new stream must not exist yet. */
export async function forkWorkflow(store: EventStore, sourceWorkflowId: string, fromRevision: bigint, options: ForkOptions = {}): Promise<ForkPlan> {
  const plan = await planFork(store, sourceWorkflowId, fromRevision, options);
  // Decision ids are deterministic, so appending onto an existing fork of the same id would be
  // taken as an idempotent retry and silently write nothing: refuse it instead.
  if (await streamExists(store, workflowStream(plan.workflowId))) throw new ForkError(`Workflow ${plan.workflowId} already exists: choose another id`);
  await appendNewWorkflow(store, plan.workflowId, plan.decisions, { definition: plan.definition, hash: plan.definitionHash });
  return plan;
}
