/**
 * What is known about one agent: the fold of its `agent-<id>` stream. Pure, so a registry's live
 * view and a reload after a write conflict compute the same thing.
 */
import { type CircuitState, closedCircuit, stateAfter } from './circuit-breaker.js';
import type { AgentEvent } from './events.js';

export interface AgentRecord {
  readonly id: string;
  readonly capabilities: readonly string[];
  readonly weight: number;
  readonly maxConcurrency?: number;
  /** False before the first registration and after a deregistration. */
  readonly registered: boolean;
  readonly circuit: CircuitState;
  /** Revision of the last event folded in: the expected revision for the next append. */
  readonly revision: bigint;
}

export function emptyAgentRecord(id: string): AgentRecord {
  return { id, capabilities: [], weight: 1, registered: false, circuit: closedCircuit, revision: -1n };
}

export function evolveAgent(record: AgentRecord, event: AgentEvent, revision: bigint): AgentRecord {
  const next = { ...record, revision };
  switch (event.type) {
    case 'AgentRegistered': {
      const { capabilities, weight, maxConcurrency } = event.data;
      return { ...next, registered: true, capabilities, weight, ...(maxConcurrency === undefined ? { maxConcurrency: undefined } : { maxConcurrency }) };
    }
    case 'AgentDeregistered':
      return { ...next, registered: false };
    case 'AgentCircuitOpened':
      return { ...next, circuit: stateAfter({ to: 'open', at: event.data.at, reopenAt: event.data.reopenAt, reason: event.data.reason }) };
    case 'AgentCircuitHalfOpened':
      return { ...next, circuit: stateAfter({ to: 'half-open', at: event.data.at }) };
    case 'AgentCircuitClosed':
      return { ...next, circuit: stateAfter({ to: 'closed', at: event.data.at }) };
  }
}
