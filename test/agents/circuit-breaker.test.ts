import { describe, expect, it } from 'vitest';
import {
  type CircuitBreakerConfig,
  type CircuitState,
  admit,
  closedCircuit,
  isAvailable,
  recordOutcome,
  resolveBreakerConfig,
} from '../../src/agents/circuit-breaker.js';

const config: CircuitBreakerConfig = resolveBreakerConfig({ failureThreshold: 3, coolDownMs: 1000, halfOpenMaxProbes: 1, successesToClose: 1 });

function fail(state: CircuitState, times: number, now: number, cfg = config): { state: CircuitState; transitions: string[] } {
  const transitions: string[] = [];
  for (let i = 0; i < times; i += 1) {
    const step = recordOutcome(state, 'failure', now, cfg);
    state = step.state;
    if (step.transition) transitions.push(step.transition.to);
  }
  return { state, transitions };
}

describe('circuit breaker state machine', () => {
  it('stays closed below the threshold and opens at it, with the cool-down deadline', () => {
    const below = fail(closedCircuit, 2, 100);
    expect(below.state.status).toBe('closed');
    expect(below.transitions).toEqual([]);
    const step = recordOutcome(below.state, 'failure', 100, config);
    expect(step.state).toEqual({ status: 'open', openedAt: 100, reopenAt: 1100 });
    expect(step.transition).toMatchObject({ to: 'open', at: 100, reopenAt: 1100 });
  });

  it('a success resets the consecutive-failure count', () => {
    let state = fail(closedCircuit, 2, 0).state;
    state = recordOutcome(state, 'success', 0, config).state;
    expect(fail(state, 2, 0).state.status).toBe('closed');
  });

  it('rejects while open, before the cool-down ends', () => {
    const open = fail(closedCircuit, 3, 0).state;
    const step = admit(open, 999, config);
    expect(step.allowed).toBe(false);
    expect(step.transition).toBeUndefined();
    expect(isAvailable(open, 999, config)).toBe(false);
  });

  it('turns half-open after the cool-down and allows only the configured probes', () => {
    const open = fail(closedCircuit, 3, 0).state;
    expect(isAvailable(open, 1000, config)).toBe(true);
    const first = admit(open, 1000, config);
    expect(first.allowed).toBe(true);
    expect(first.transition).toEqual({ to: 'half-open', at: 1000 });
    expect(first.state).toMatchObject({ status: 'half-open', probesInFlight: 1 });
    const second = admit(first.state, 1001, config);
    expect(second.allowed).toBe(false);
    expect(isAvailable(first.state, 1001, config)).toBe(false);
  });

  it('allows several probes when configured, and needs the configured successes to close', () => {
    const cfg = resolveBreakerConfig({ failureThreshold: 1, coolDownMs: 10, halfOpenMaxProbes: 2, successesToClose: 2 });
    const open = fail(closedCircuit, 1, 0, cfg).state;
    const a = admit(open, 10, cfg);
    const b = admit(a.state, 10, cfg);
    expect([a.allowed, b.allowed, admit(b.state, 10, cfg).allowed]).toEqual([true, true, false]);
    const one = recordOutcome(b.state, 'success', 11, cfg);
    expect(one.state.status).toBe('half-open');
    const two = recordOutcome(one.state, 'success', 12, cfg);
    expect(two.state.status).toBe('closed');
    expect(two.transition).toEqual({ to: 'closed', at: 12 });
  });

  it('closes on a probe success', () => {
    const probing = admit(fail(closedCircuit, 3, 0).state, 1000, config).state;
    const step = recordOutcome(probing, 'success', 1005, config);
    expect(step.state).toEqual(closedCircuit);
    expect(step.transition).toEqual({ to: 'closed', at: 1005 });
  });

  it('reopens on a probe failure, with a new cool-down', () => {
    const probing = admit(fail(closedCircuit, 3, 0).state, 1000, config).state;
    const step = recordOutcome(probing, 'failure', 1005, config);
    expect(step.state).toEqual({ status: 'open', openedAt: 1005, reopenAt: 2005 });
    expect(step.transition?.to).toBe('open');
  });

  it('an ignored probe frees its slot without a verdict', () => {
    const probing = admit(fail(closedCircuit, 3, 0).state, 1000, config).state;
    const step = recordOutcome(probing, 'ignored', 1001, config);
    expect(step.state).toMatchObject({ status: 'half-open', probesInFlight: 0 });
    expect(admit(step.state, 1002, config).allowed).toBe(true);
  });

  it('ignores late outcomes while open', () => {
    const open = fail(closedCircuit, 3, 0).state;
    expect(recordOutcome(open, 'failure', 5, config)).toEqual({ state: open });
    expect(recordOutcome(open, 'success', 5, config)).toEqual({ state: open });
  });

  it('opens on the failure rate over a window when configured', () => {
    const cfg = resolveBreakerConfig({ failureThreshold: 100, coolDownMs: 50, failureRate: { threshold: 0.5, windowMs: 1000, minimumCalls: 4 } });
    let state: CircuitState = closedCircuit;
    const outcomes = ['failure', 'success', 'failure'] as const;
    for (const outcome of outcomes) state = recordOutcome(state, outcome, 10, cfg).state;
    expect(state.status).toBe('closed'); // only 3 calls: below minimumCalls
    const step = recordOutcome(state, 'success', 20, cfg);
    expect(step.state.status).toBe('open'); // 2 of 4 failed
    expect(step.transition).toMatchObject({ to: 'open', reason: expect.stringContaining('50%') });
  });

  it('forgets failures that fell out of the window', () => {
    const cfg = resolveBreakerConfig({ failureThreshold: 100, coolDownMs: 50, failureRate: { threshold: 0.5, windowMs: 100, minimumCalls: 2 } });
    let state = recordOutcome(closedCircuit, 'failure', 0, cfg).state;
    state = recordOutcome(state, 'success', 500, cfg).state;
    state = recordOutcome(state, 'success', 501, cfg).state;
    expect(state.status).toBe('closed');
  });

  it('rejects nonsensical configuration', () => {
    expect(() => resolveBreakerConfig({ failureThreshold: 0 })).toThrow(/failureThreshold/);
    expect(() => resolveBreakerConfig({ failureRate: { threshold: 2, windowMs: 1, minimumCalls: 1 } })).toThrow(/threshold/);
  });
});
