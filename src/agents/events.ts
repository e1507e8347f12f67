/**
 * Events of `agent-<id>` streams: registration and circuit transitions. Every process folds them
 * into the same view of the agents. Each event carries a schema version `v` for upcasting.
 */
import { z } from 'zod';
import type { EventData, RecordedEvent } from '../store/port.js';
import type { CircuitTransition } from './circuit-breaker.js';

export const AGENT_STREAM_PREFIX = 'agent-';

export function agentStream(agentId: string): string {
  return `${AGENT_STREAM_PREFIX}${agentId}`;
}

const agentId = z.string().min(1);
const epochMs = z.number().int().nonnegative();

export const agentRegisteredSchema = z.object({
  v: z.literal(1),
  agentId,
  capabilities: z.array(z.string().min(1)),
  weight: z.number().positive(),
  maxConcurrency: z.number().int().positive().optional(),
  at: epochMs,
});
export const agentDeregisteredSchema = z.object({ v: z.literal(1), agentId, at: epochMs });
export const agentCircuitOpenedSchema = z.object({
  v: z.literal(1),
  agentId,
  at: epochMs,
  /** The cool-down deadline: every process lets probes through from this time on. */
  reopenAt: epochMs,
  reason: z.string(),
});
export const agentCircuitHalfOpenedSchema = z.object({ v: z.literal(1), agentId, at: epochMs });
export const agentCircuitClosedSchema = z.object({ v: z.literal(1), agentId, at: epochMs });

export const agentEventSchemas = {
  AgentRegistered: agentRegisteredSchema,
  AgentDeregistered: agentDeregisteredSchema,
  AgentCircuitOpened: agentCircuitOpenedSchema,
  AgentCircuitHalfOpened: agentCircuitHalfOpenedSchema,
  AgentCircuitClosed: agentCircuitClosedSchema,
} as const;

export type AgentEventType = keyof typeof agentEventSchemas;

export type AgentEvent = {
  [K in AgentEventType]: { readonly type: K; readonly data: z.infer<(typeof agentEventSchemas)[K]> };
}[AgentEventType];

/** Parse a stored event; undefined for event types this module does not know (skip them). */
export function parseAgentEvent(event: RecordedEvent): AgentEvent | undefined {
  if (!Object.hasOwn(agentEventSchemas, event.type)) return undefined;
  const type = event.type as AgentEventType;
  const data = agentEventSchemas[type].parse(event.data);
  return { type, data } as AgentEvent;
}

export function transitionEvent(agentId: string, transition: CircuitTransition): AgentEvent {
  switch (transition.to) {
    case 'open':
      return { type: 'AgentCircuitOpened', data: { v: 1, agentId, at: transition.at, reopenAt: transition.reopenAt, reason: transition.reason } };
    case 'half-open':
      return { type: 'AgentCircuitHalfOpened', data: { v: 1, agentId, at: transition.at } };
    case 'closed':
      return { type: 'AgentCircuitClosed', data: { v: 1, agentId, at: transition.at } };
  }
}

export function toEventData(event: AgentEvent, id: string): EventData {
  return { id, type: event.type, data: event.data, metadata: { agentId: event.data.agentId } };
}
