import { describe, expect, it } from 'vitest';
import { type AgentRecord, emptyAgentRecord } from '../../src/agents/agent-record.js';
import { type CircuitState, defaultCircuitBreakerConfig } from '../../src/agents/circuit-breaker.js';
import { rankCandidates } from '../../src/agents/discovery.js';

function agent(id: string, overrides: Partial<AgentRecord> = {}): AgentRecord {
  return { ...emptyAgentRecord(id), registered: true, capabilities: ['x'], ...overrides };
}

const open = (reopenAt: number): CircuitState => ({ status: 'open', openedAt: 0, reopenAt });

function rank(records: AgentRecord[], extra: { inFlight?: Record<string, number>; includeUnavailable?: boolean; now?: number } = {}): string[] {
  return rankCandidates({
    records,
    capability: 'x',
    now: extra.now ?? 100,
    breaker: defaultCircuitBreakerConfig,
    inFlight: (id) => extra.inFlight?.[id] ?? 0,
    callable: () => true,
    includeUnavailable: extra.includeUnavailable,
  });
}

describe('discovery order', () => {
  it('puts probing agents after closed ones, and open ones nowhere unless asked', () => {
    const records = [
      agent('probing', { circuit: { status: 'half-open', probesInFlight: 0, probeSuccesses: 0 }, weight: 10 }),
      agent('late', { circuit: open(500) }),
      agent('early', { circuit: open(200) }),
      agent('cooled', { circuit: open(50) }), // cool-down over: ready for a probe
      agent('fine'),
    ];
    expect(rank(records)).toEqual(['fine', 'probing', 'cooled']);
    expect(rank(records, { includeUnavailable: true })).toEqual(['fine', 'probing', 'cooled', 'early', 'late']);
  });

  it('compares load relative to each agent capacity', () => {
    const records = [agent('small', { maxConcurrency: 2 }), agent('big', { maxConcurrency: 10 })];
    expect(rank(records, { inFlight: { small: 1, big: 4 } })).toEqual(['big', 'small']); // 0.4 < 0.5
    expect(rank(records, { inFlight: { small: 1, big: 6 } })).toEqual(['small', 'big']);
  });

  it('ignores agents without the capability or no longer registered', () => {
    const records = [agent('gone', { registered: false }), agent('other', { capabilities: ['y'] }), agent('here')];
    expect(rank(records)).toEqual(['here']);
  });
});
