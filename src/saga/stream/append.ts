/**
 * Writing a workflow without a runtime: decide a trigger on the stream's current state and append
 * the decision with the expected revision it was decided from; on a conflict, load again and decide
 * again. What the operator commands use (the runtime does the same with its cache, in
 * src/saga/runtime). The decision is made with no agents unless some are given, so nothing is
 * called from here: what it schedules waits for an agent, and the workflow's owning runtime, woken
 * by the append, carries it on (docs/runtime.md).
 */
import { randomUUID } from 'node:crypto';
import { WrongExpectedVersionError } from '../../store/errors.js';
import type { WorkflowDefinition, WorkflowDefinitionInput } from '../../workflow/definition.js';
import type { Json } from '../../workflow/json.js';
import { initialState } from '../state.js';
import { metadataObject, type EventData, type EventStore } from '../../store/port.js';
import { decide } from '../decide.js';
import type { DecisionContext, Trigger } from '../triggers.js';
import { toEventDataList } from './codec.js';
import { saveDefinition } from './definitions.js';
import { replayWorkflow } from './load.js';
import { workflowStream } from './names.js';

export interface AppendDecisionOptions {
  readonly now?: () => number;
  readonly random?: () => number;
  /** Agents for what the decision schedules. Default: none (see the module header). */
  readonly candidates?: DecisionContext['candidates'];
  /** Conflicting appends decided again before giving up. Default 10. */
  readonly maxConflicts?: number;
  /** The causation of the decision; default `command:<type>:<last event id>` for a command, else the last event id. */
  readonly causationId?: string;
}

const noAgents = (): readonly string[] => [];

/**
 * Decides `trigger` on the workflow's current state and appends the result; returns what was
 * appended (nothing when the trigger decides nothing). Throws the core's CommandRejectedError
 * (nothing appended) for a command that makes no sense now, and the store's StreamNotFoundError
 * for an unknown workflow.
 */
export async function decideAndAppend(store: EventStore, workflowId: string, trigger: Trigger, options: AppendDecisionOptions = {}): Promise<EventData[]> {
  for (let attempt = 0; ; attempt++) {
    const { state, last } = await replayWorkflow(store, workflowId);
    const context: DecisionContext = { now: (options.now ?? Date.now)(), random: options.random ?? Math.random, candidates: options.candidates ?? noAgents };
    const events = decide(state, trigger, context);
    if (events.length === 0 || state.status === 'idle' || last === undefined) return [];
    const lastCorrelationId = metadataObject(last.metadata).correlationId;
    const correlationId = typeof lastCorrelationId === 'string' ? lastCorrelationId : workflowId;
    const causationId = options.causationId ?? (trigger.kind === 'command' ? `command:${trigger.command.type}:${last.id}` : last.id);
    const data = toEventDataList(events, { correlationId, causationId });
    try {
      await store.append(workflowStream(workflowId), data, { expectedRevision: last.revision });
      return data;
    } catch (error) {
      // Someone else moved the workflow: load again and decide again.
      if (!(error instanceof WrongExpectedVersionError) || attempt >= (options.maxConflicts ?? 10)) throw error;
    }
  }
}

/**
 * Starts a workflow without a runtime (`cadenza run --no-wait`): with no slot to give it, the start
 * is stored queued (durable and visible at once), and a runtime hosting the definition admits it,
 * by priority then age, when it has a free slot. Throws the core's CommandRejectedError for a start
 * that makes no sense (a bad definition, missing input, a priority out of range), the store's
 * WrongExpectedVersionError when the workflow exists.
 */
export async function appendStart(
  store: EventStore,
  workflowId: string,
  definition: WorkflowDefinition | WorkflowDefinitionInput,
  input: Json,
  options: { readonly now?: () => number; readonly correlationId?: string; readonly priority?: number } = {},
): Promise<EventData[]> {
  const command = { type: 'start', workflowId, definition, input, admit: false, ...(options.priority === undefined ? {} : { priority: options.priority }) } as const;
  const events = decide(initialState(workflowId), { kind: 'command', command }, { now: (options.now ?? Date.now)(), random: Math.random, candidates: noAgents });
  const started = events[0];
  if (started?.type === 'WorkflowStarted') await saveDefinition(store, started.data.definition, started.data.definitionHash);
  const data = toEventDataList(events, { correlationId: options.correlationId ?? workflowId, causationId: `command:start:${randomUUID()}` });
  await store.append(workflowStream(workflowId), data, { expectedRevision: 'no_stream' });
  return data;
}

/**
 * Appends the decisions of a workflow that does not exist yet (a fork), each atomically, in order;
 * `definition` is the one its WorkflowStarted refers to, stored first.
 */
export async function appendNewWorkflow(
  store: EventStore,
  workflowId: string,
  decisions: readonly (readonly EventData[])[],
  definition: { readonly definition: WorkflowDefinition; readonly hash: string },
): Promise<void> {
  await saveDefinition(store, definition.definition, definition.hash);
  let expectedRevision: bigint | 'no_stream' = 'no_stream';
  for (const decision of decisions) {
    const result = await store.append(workflowStream(workflowId), [...decision], { expectedRevision });
    expectedRevision = result.nextExpectedRevision;
  }
}
