/**
 * Discovery order as a pure function of the agents' records, their load and the time: which agents
 * to try for a capability, best first.
 */
import type { AgentRecord } from './agent-record.js';
import { type CircuitBreakerConfig, type CircuitState, isAvailable } from './circuit-breaker.js';

export interface RankingInput {
  readonly records: Iterable<AgentRecord>;
  readonly capability: string;
  readonly now: number;
  readonly breaker: CircuitBreakerConfig;
  /** In-flight calls of an agent in this process. */
  readonly inFlight: (agentId: string) => number;
  /** Whether this process can call the agent (has its transport). */
  readonly callable: (agentId: string) => boolean;
  /** Also list agents whose circuit refuses calls now, after the available ones. */
  readonly includeUnavailable?: boolean;
  /** Also list agents this process cannot call. */
  readonly includeRemote?: boolean;
}

/**
 * Available agents first: healthier (closed without failures, closed with failures, probing), then
 * less loaded (in-flight / maxConcurrency), then heavier weight, then id. Refused agents (open
 * circuit, no free probe slot) only with `includeUnavailable`, soonest reopening first.
 */
export function rankCandidates(input: RankingInput): string[] {
  const entries = [...input.records]
    .filter((record) => record.registered && record.capabilities.includes(input.capability))
    .filter((record) => input.includeRemote || input.callable(record.id))
    .map((record) => ({
      record,
      available: isAvailable(record.circuit, input.now, input.breaker),
      tier: healthTier(record.circuit),
      load: input.inFlight(record.id) / (record.maxConcurrency ?? 1),
    }));
  const available = entries
    .filter((entry) => entry.available)
    .sort((a, b) => a.tier - b.tier || a.load - b.load || b.record.weight - a.record.weight || a.record.id.localeCompare(b.record.id))
    .map((entry) => entry.record.id);
  if (!input.includeUnavailable) return available;
  const unavailable = entries
    .filter((entry) => !entry.available)
    .sort((a, b) => reopenAtOf(a.record.circuit) - reopenAtOf(b.record.circuit) || a.record.id.localeCompare(b.record.id))
    .map((entry) => entry.record.id);
  return [...available, ...unavailable];
}

/** 0: closed, no failure since the last success; 1: closed with failures; 2: probing. */
function healthTier(circuit: CircuitState): number {
  if (circuit.status !== 'closed') return 2;
  return circuit.consecutiveFailures === 0 ? 0 : 1;
}

export function reopenAtOf(circuit: CircuitState): number {
  return circuit.status === 'open' ? circuit.reopenAt : 0;
}
