/**
 * Per-agent call statistics of this process: in-flight calls (discovery's load), latency and
 * success rate (the agent-health read model and monitoring).
 */

export interface AgentStatsSnapshot {
  readonly agentId: string;
  readonly inFlight: number;
  readonly calls: number;
  readonly successes: number;
  readonly failures: number;
  /** Calls refused without reaching the agent (open circuit, full bulkhead). */
  readonly rejected: number;
  /** Successes / (successes + failures) over the recent calls; 1 before any call. */
  readonly successRate: number;
  readonly latencyMs: { readonly last?: number; readonly p50?: number; readonly p99?: number };
}

/** Recent calls kept for rates and percentiles: enough to be stable, small enough to sort cheaply. */
const RECENT = 200;

class AgentCounters {
  inFlight = 0;
  calls = 0;
  successes = 0;
  failures = 0;
  rejected = 0;
  readonly recentLatencies: number[] = [];
  readonly recentOutcomes: boolean[] = [];

  record(ok: boolean, latencyMs: number): void {
    this.calls += 1;
    if (ok) this.successes += 1;
    else this.failures += 1;
    pushBounded(this.recentLatencies, latencyMs);
    pushBounded(this.recentOutcomes, ok);
  }
}

function pushBounded<T>(list: T[], item: T): void {
  list.push(item);
  if (list.length > RECENT) list.shift();
}

function percentile(sorted: readonly number[], p: number): number | undefined {
  if (sorted.length === 0) return undefined;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

export class AgentStats {
  readonly #byAgent = new Map<string, AgentCounters>();

  #counters(agentId: string): AgentCounters {
    let counters = this.#byAgent.get(agentId);
    if (!counters) {
      counters = new AgentCounters();
      this.#byAgent.set(agentId, counters);
    }
    return counters;
  }

  started(agentId: string): void {
    this.#counters(agentId).inFlight += 1;
  }

  /** A started call settled; `ok` is the agent's health verdict on it. */
  finished(agentId: string, ok: boolean, latencyMs: number): void {
    const counters = this.#counters(agentId);
    counters.inFlight = Math.max(0, counters.inFlight - 1);
    counters.record(ok, latencyMs);
  }

  /** A started call settled without a verdict (cancelled by the caller). */
  abandoned(agentId: string): void {
    const counters = this.#counters(agentId);
    counters.inFlight = Math.max(0, counters.inFlight - 1);
  }

  rejected(agentId: string): void {
    this.#counters(agentId).rejected += 1;
  }

  inFlight(agentId: string): number {
    return this.#byAgent.get(agentId)?.inFlight ?? 0;
  }

  snapshot(agentId: string): AgentStatsSnapshot {
    const counters = this.#byAgent.get(agentId) ?? new AgentCounters();
    const recent = counters.recentOutcomes;
    const successRate = recent.length === 0 ? 1 : recent.filter(Boolean).length / recent.length;
    const sorted = [...counters.recentLatencies].sort((a, b) => a - b);
    return {
      agentId,
      inFlight: counters.inFlight,
      calls: counters.calls,
      successes: counters.successes,
      failures: counters.failures,
      rejected: counters.rejected,
      successRate,
      latencyMs: { last: counters.recentLatencies.at(-1), p50: percentile(sorted, 50), p99: percentile(sorted, 99) },
    };
  }

  all(): AgentStatsSnapshot[] {
    return [...this.#byAgent.keys()].sort().map((agentId) => this.snapshot(agentId));
  }
}
