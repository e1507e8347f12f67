/**
 * Agent health: per agent, registration and circuit state (from its `agent-<id>` stream) and the
 * calls the workflows made to it (from `workflow-<id>` streams): in flight now, outcomes, a window
 * of the most recent outcomes, and latency. The open calls of each workflow are remembered in a
 * `calls` document, so an outcome is counted once, for the agent that was actually called.
 */
import { type AgentEvent, parseAgentEvent } from '../../src/agents/events.js';
import type { DocFold, DocView } from '../../src/projections/doc-fold.js';
import type { WorkflowEvent } from '../../src/saga/events.js';
import type { RecordedEvent } from '../../src/store/port.js';
import { emptyHistogram, type Histogram, record } from '../shared/histogram.js';
import { decodeWorkflowEvent, definitionsReady } from '../../src/saga/stream/index.js';

export const AGENT_STREAM_PREFIX = 'agent-';
/** Outcomes kept in `recent`: s(ucceeded), f(ailed), t(imed out). */
export const RECENT_WINDOW = 50;

export type CircuitStatus = 'closed' | 'open' | 'half-open';

export interface AgentHealthDoc {
  readonly kind: 'agent';
  readonly agentId: string;
  readonly registered: boolean;
  readonly capabilities: readonly string[];
  readonly circuit: CircuitStatus;
  readonly circuitSince?: number;
  readonly reopenAt?: number;
  readonly circuitReason?: string;
  readonly inFlight: number;
  readonly succeeded: number;
  readonly failed: number;
  readonly timedOut: number;
  readonly recent: string;
  readonly latency: Histogram;
  readonly lastSeenAt?: number;
}

export interface OpenCallsDoc {
  readonly kind: 'calls';
  /** `s:<step>:<attempt>` or `c:<step>:<attempt>` to the agent called. */
  readonly open: Readonly<Record<string, string>>;
}

export type AgentHealthReadModel = AgentHealthDoc | OpenCallsDoc;

export type AgentHealthInput = { readonly source: 'agent'; readonly event: AgentEvent } | { readonly source: 'workflow'; readonly event: WorkflowEvent };

export const agentHealthKey = (agentId: string): string => `agent:${agentId}`;
const callsKey = (workflowId: string): string => `calls:${workflowId}`;

type View = DocView<AgentHealthReadModel>;
type Outcome = 's' | 'f' | 't';

export const agentHealthFold: DocFold<AgentHealthInput, AgentHealthReadModel> = {
  decode(recorded: RecordedEvent) {
    if (recorded.stream.startsWith(AGENT_STREAM_PREFIX)) {
      const event = parseAgentEvent(recorded);
      return event && { source: 'agent', event };
    }
    const input = decodeWorkflowEvent(recorded);
    return input && { source: 'workflow', event: input.event };
  },
  prepare: definitionsReady,
  apply(view, input) {
    if (input.source === 'agent') applyAgentEvent(view, input.event);
    else applyWorkflowEvent(view, input.event);
  },
};

function applyAgentEvent(view: View, event: AgentEvent): void {
  const { agentId, at } = event.data;
  const agent = { ...agentOf(view, agentId), lastSeenAt: at };
  switch (event.type) {
    case 'AgentRegistered':
      return void view.put(agentHealthKey(agentId), { ...agent, registered: true, capabilities: event.data.capabilities });
    case 'AgentDeregistered':
      return void view.put(agentHealthKey(agentId), { ...agent, registered: false });
    case 'AgentCircuitOpened':
      return void view.put(agentHealthKey(agentId), { ...agent, circuit: 'open', circuitSince: at, reopenAt: event.data.reopenAt, circuitReason: event.data.reason });
    case 'AgentCircuitHalfOpened':
      return void view.put(agentHealthKey(agentId), { ...withoutCircuitDetail(agent), circuit: 'half-open', circuitSince: at });
    case 'AgentCircuitClosed':
      return void view.put(agentHealthKey(agentId), { ...withoutCircuitDetail(agent), circuit: 'closed', circuitSince: at });
  }
}

function applyWorkflowEvent(view: View, event: WorkflowEvent): void {
  const { workflowId } = event.data;
  switch (event.type) {
    case 'StepScheduled':
      return openCall(view, workflowId, `s:${event.data.stepId}:${event.data.attempt}`, event.data.agentId, event.data.at);
    case 'CompensationScheduled':
      return openCall(view, workflowId, `c:${event.data.stepId}:${event.data.attempt}`, event.data.agentId, event.data.at);
    case 'StepResumed':
      return moveCall(view, workflowId, `s:${event.data.stepId}:${event.data.attempt}`, event.data.agentId, event.data.at);
    case 'CompensationResumed':
      return moveCall(view, workflowId, `c:${event.data.stepId}:${event.data.attempt}`, event.data.agentId, event.data.at);
    case 'StepSucceeded':
      return closeCall(view, workflowId, `s:${event.data.stepId}:${event.data.attempt}`, 's', event.data.at, event.data.durationMs);
    case 'CompensationSucceeded':
      return closeCall(view, workflowId, `c:${event.data.stepId}:${event.data.attempt}`, 's', event.data.at, event.data.durationMs);
    case 'StepFailed':
      return closeCall(view, workflowId, `s:${event.data.stepId}:${event.data.attempt}`, 'f', event.data.at);
    case 'CompensationFailed':
      return closeCall(view, workflowId, `c:${event.data.stepId}:${event.data.attempt}`, 'f', event.data.at);
    case 'StepTimedOut':
      return closeCall(view, workflowId, `s:${event.data.stepId}:${event.data.attempt}`, 't', event.data.at);
    case 'WorkflowCompleted':
    case 'WorkflowFailed':
    case 'WorkflowCompensated':
    case 'WorkflowCompensationFailed':
    case 'WorkflowCancelled':
    case 'WorkflowResolved':
      return abandonCalls(view, workflowId);
    default:
      return;
  }
}

function agentOf(view: View, agentId: string): AgentHealthDoc {
  const doc = view.get(agentHealthKey(agentId));
  if (doc?.kind === 'agent') return doc;
  return { kind: 'agent', agentId, registered: false, capabilities: [], circuit: 'closed', inFlight: 0, succeeded: 0, failed: 0, timedOut: 0, recent: '', latency: emptyHistogram };
}

function withoutCircuitDetail(agent: AgentHealthDoc): AgentHealthDoc {
  const { reopenAt: _reopenAt, circuitReason: _reason, ...rest } = agent;
  return rest;
}

function callsOf(view: View, workflowId: string): OpenCallsDoc {
  const doc = view.get(callsKey(workflowId));
  return doc?.kind === 'calls' ? doc : { kind: 'calls', open: {} };
}

function openCall(view: View, workflowId: string, call: string, agentId: string, at: number): void {
  const calls = callsOf(view, workflowId);
  if (calls.open[call] !== undefined) return;
  view.put(callsKey(workflowId), { kind: 'calls', open: { ...calls.open, [call]: agentId } });
  const agent = agentOf(view, agentId);
  view.put(agentHealthKey(agentId), { ...agent, inFlight: agent.inFlight + 1, lastSeenAt: at });
}

/**
 * A call re-sent after a restart (same attempt, same key) goes to the agent named in the resume,
 * which may be another one when the first is no longer a candidate: the open call moves with it, so
 * the outcome is counted for the agent that answers and the first one's in-flight count goes down.
 */
function moveCall(view: View, workflowId: string, call: string, agentId: string, at: number): void {
  const calls = callsOf(view, workflowId);
  const previous = calls.open[call];
  if (previous === agentId) return;
  view.put(callsKey(workflowId), { kind: 'calls', open: { ...calls.open, [call]: agentId } });
  if (previous !== undefined) {
    const left = agentOf(view, previous);
    view.put(agentHealthKey(previous), { ...left, inFlight: left.inFlight - 1 });
  }
  const agent = agentOf(view, agentId);
  view.put(agentHealthKey(agentId), { ...agent, inFlight: agent.inFlight + 1, lastSeenAt: at });
}

function closeCall(view: View, workflowId: string, call: string, outcome: Outcome, at: number, durationMs?: number): void {
  const calls = callsOf(view, workflowId);
  const agentId = calls.open[call];
  if (agentId === undefined) return;
  const { [call]: _closed, ...open } = calls.open;
  view.put(callsKey(workflowId), { kind: 'calls', open });
  const agent = agentOf(view, agentId);
  view.put(agentHealthKey(agentId), {
    ...agent,
    inFlight: agent.inFlight - 1,
    succeeded: agent.succeeded + (outcome === 's' ? 1 : 0),
    failed: agent.failed + (outcome === 'f' ? 1 : 0),
    timedOut: agent.timedOut + (outcome === 't' ? 1 : 0),
    recent: (agent.recent + outcome).slice(-RECENT_WINDOW),
    latency: durationMs === undefined ? agent.latency : record(agent.latency, durationMs),
    lastSeenAt: at,
  });
}

/** A workflow that ended no longer waits for its calls: they stop counting as in flight. */
function abandonCalls(view: View, workflowId: string): void {
  const calls = view.get(callsKey(workflowId));
  if (calls?.kind !== 'calls') return;
  for (const agentId of Object.values(calls.open)) {
    const agent = agentOf(view, agentId);
    view.put(agentHealthKey(agentId), { ...agent, inFlight: agent.inFlight - 1 });
  }
  view.remove(callsKey(workflowId));
}
