/**
 * Operator commands on an existing workflow (retry a paused one, compensate a running or paused
 * one). With a saga runtime at hand they go through its command API, which also performs the calls
 * the decision schedules. Without one (the CLI on its own), the command is decided by the core
 * and appended with the expected revision it was decided from, exactly as the runtime does; a
 * runtime following the store then carries the workflow on (see docs/projections.md).
 */
import { WrongExpectedVersionError } from '../store/errors.js';
import { decide } from '../saga/decide.js';
import type { WorkflowEvent } from '../saga/events.js';
import type { DecisionContext, WorkflowCommand } from '../saga/triggers.js';
import type { EventData, EventStore } from '../store/port.js';
import { replayWorkflow, workflowStreamOf } from './replay.js';
import { decisionToEventData } from './workflow-metadata.js';

export type OperatorCommand = Extract<WorkflowCommand, { type: 'retry' | 'compensate' | 'cancel' | 'resolve' }>;

/** What the saga runtime offers (SagaRuntime satisfies it). */
export interface WorkflowCommander {
  retry(workflowId: string): Promise<WorkflowEvent[]>;
  compensate(workflowId: string, reason?: string): Promise<WorkflowEvent[]>;
  cancel(workflowId: string, reason?: string): Promise<WorkflowEvent[]>;
  resolve(workflowId: string, note: string): Promise<WorkflowEvent[]>;
}

export function sendThroughRuntime(runtime: WorkflowCommander, workflowId: string, command: OperatorCommand): Promise<WorkflowEvent[]> {
  switch (command.type) {
    case 'retry':
      return runtime.retry(workflowId);
    case 'compensate':
      return runtime.compensate(workflowId, command.reason);
    case 'cancel':
      return runtime.cancel(workflowId, command.reason);
    case 'resolve':
      return runtime.resolve(workflowId, command.note);
  }
}

const noAgents = (): readonly string[] => [];

export interface DirectCommandOptions {
  readonly now?: () => number;
  readonly random?: () => number;
  /**
   * Agents for the calls the decision schedules. Default: none. This process calls no agent, so
   * what the command schedules waits for an agent (StepWaitingForAgent, CompensationWaitingForAgent)
   * and the workflow's owning runtime, woken by the append, schedules and calls it at once.
   */
  readonly candidates?: (capability: string) => readonly string[];
  /** Conflicting appends decided again before giving up. Default 10. */
  readonly maxConflicts?: number;
}

/**
 * Decide the command on the workflow's current state and append the result. Throws the core's
 * CommandRejectedError (nothing appended) when the command makes no sense in that state, and the
 * store's StreamNotFoundError for an unknown workflow.
 */
export async function sendDirect(store: EventStore, workflowId: string, command: OperatorCommand, options: DirectCommandOptions = {}): Promise<EventData[]> {
  for (let attempt = 0; ; attempt++) {
    const { state, last } = await replayWorkflow(store, workflowId);
    const context: DecisionContext = {
      now: (options.now ?? Date.now)(),
      random: options.random ?? Math.random,
      candidates: options.candidates ?? noAgents,
    };
    const events = decide(state, { kind: 'command', command }, context);
    if (events.length === 0 || state.status === 'idle' || last === undefined) return [];
    const correlationId = typeof last.metadata.correlationId === 'string' ? last.metadata.correlationId : workflowId;
    const data = decisionToEventData(events, { correlationId, causationId: `command:${command.type}:${last.id}`, definitionHash: state.definitionHash });
    try {
      await store.append(workflowStreamOf(workflowId), data, { expectedRevision: last.revision });
      return data;
    } catch (error) {
      // Someone else moved the workflow: reload and decide again.
      if (!(error instanceof WrongExpectedVersionError) || attempt >= (options.maxConflicts ?? 10)) throw error;
    }
  }
}
