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
  // One pass, no intermediate arrays: this runs for every step scheduled.
  const available: Ranked[] = [];
  const unavailable: Ranked[] = [];
  for (const record of input.records) {
    if (!record.registered || !record.capabilities.includes(input.capability)) continue;
    if (!input.includeRemote && !input.callable(record.id)) continue;
    if (isAvailable(record.circuit, input.now, input.breaker)) {
      available.push({ record, tier: healthTier(record.circuit), load: input.inFlight(record.id) / (record.maxConcurrency ?? 1) });
    } else if (input.includeUnavailable) {
      unavailable.push({ record, tier: 0, load: 0 });
    }
  }
  if (available.length > 1) {
    available.sort((a, b) => a.tier - b.tier || a.load - b.load || b.record.weight - a.record.weight || a.record.id.localeCompare(b.record.id));
  }
  const ranked = available.map((entry) => entry.record.id);
  if (unavailable.length === 0) return ranked;
  unavailable.sort((a, b) => reopenAtOf(a.record.circuit) - reopenAtOf(b.record.circuit) || a.record.id.localeCompare(b.record.id));
  for (const entry of unavailable) ranked.push(entry.record.id);
  return ranked;
}

interface Ranked {
  readonly record: AgentRecord;
  readonly tier: number;
  readonly load: number;
}

/** 0: closed, no failure since the last success; 1: closed with failures; 2: probing. */
function healthTier(circuit: CircuitState): number {
  if (circuit.status !== 'closed') return 2;
  return circuit.consecutiveFailures === 0 ? 0 : 1;
}

export function reopenAtOf(circuit: CircuitState): number {
  return circuit.status === 'open' ? circuit.reopenAt : 0;
}
