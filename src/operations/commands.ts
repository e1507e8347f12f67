/**
 * Operator commands on an existing workflow (retry a paused one, compensate, cancel, resolve). With
 * a saga runtime at hand they go through its command API, which also performs the calls the
 * decision schedules. Without one (the CLI on its own), the command is decided and appended through
 * the workflow stream, and the workflow's owning runtime carries it on at once (docs/runtime.md).
 */
import type { WorkflowEvent } from '../saga/events.js';
import type { WorkflowCommand } from '../saga/triggers.js';
import { decideAndAppend, type AppendDecisionOptions } from '../saga/stream/append.js';
import type { EventData, EventStore } from '../store/port.js';

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

export type DirectCommandOptions = AppendDecisionOptions;

/**
 * Decide the command on the workflow's current state and append the result, with no runtime and no
 * agents: the workflow's owning runtime carries it on (src/saga/stream/append.ts). Throws the core's
 * CommandRejectedError (nothing appended) when the command makes no sense in that state, and the
 * store's StreamNotFoundError for an unknown workflow.
 */
export function sendDirect(store: EventStore, workflowId: string, command: OperatorCommand, options: DirectCommandOptions = {}): Promise<EventData[]> {
  return decideAndAppend(store, workflowId, { kind: 'command', command }, options);
}
