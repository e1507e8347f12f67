import { describe, expect, it } from 'vitest';
import {
  type CircuitBreakerConfig,
  type CircuitState,
  admit,
  closedCircuit,
  defaultCircuitBreakerConfig,
  isAvailable,
  recordOutcome,
  resolveBreakerConfig,
  stateAfter,
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

  it('says why it opened: consecutive failures, a failed probe, or the rate over how many calls', () => {
    expect(fail(closedCircuit, 2, 0).state).toEqual({ status: 'closed', consecutiveFailures: 2, samples: [] });
    expect(recordOutcome(fail(closedCircuit, 2, 0).state, 'failure', 0, config).transition).toEqual({ to: 'open', at: 0, reopenAt: 1000, reason: '3 consecutive failures' });
    const probing = admit(fail(closedCircuit, 3, 0).state, 1000, config).state;
    expect(recordOutcome(probing, 'failure', 1005, config).transition).toEqual({ to: 'open', at: 1005, reopenAt: 2005, reason: 'probe failed' });
    const cfg = resolveBreakerConfig({ failureThreshold: 100, coolDownMs: 50, failureRate: { threshold: 0.6, windowMs: 1000, minimumCalls: 5 } });
    let state: CircuitState = closedCircuit;
    for (const outcome of ['failure', 'success', 'failure', 'success'] as const) state = recordOutcome(state, outcome, 10, cfg).state;
    expect(recordOutcome(state, 'failure', 11, cfg).transition).toEqual({ to: 'open', at: 11, reopenAt: 61, reason: 'failure rate 60% over 5 calls' });
  });

  it('keeps samples only with a rate window, and only those inside it (a sample exactly windowMs old is out)', () => {
    expect(recordOutcome(closedCircuit, 'failure', 5, config).state).toEqual({ status: 'closed', consecutiveFailures: 1, samples: [] });
    const cfg = resolveBreakerConfig({ failureThreshold: 100, coolDownMs: 50, failureRate: { threshold: 1, windowMs: 100, minimumCalls: 2 } });
    let state = recordOutcome(closedCircuit, 'failure', 0, cfg).state;
    expect(state).toEqual({ status: 'closed', consecutiveFailures: 1, samples: [{ at: 0, failed: true }] });
    // At 100 the failure at 0 is out of the window: one call in it, below minimumCalls.
    state = recordOutcome(state, 'failure', 100, cfg).state;
    expect(state).toEqual({ status: 'closed', consecutiveFailures: 2, samples: [{ at: 100, failed: true }] });
    // At 150 both are in: 2 of 2 failed.
    expect(recordOutcome(state, 'failure', 150, cfg).state.status).toBe('open');
    // A success on a healthy circuit with a window is still a sample.
    expect(recordOutcome(closedCircuit, 'success', 7, cfg).state).toEqual({ status: 'closed', consecutiveFailures: 0, samples: [{ at: 7, failed: false }] });
    expect(recordOutcome(closedCircuit, 'ignored', 7, cfg).state).toBe(closedCircuit);
  });

  it('bounds the window to the newest 10,000 samples', () => {
    const cfg = resolveBreakerConfig({ failureThreshold: 100_000, coolDownMs: 50, failureRate: { threshold: 0.9, windowMs: 1_000_000, minimumCalls: 1 } });
    const old = Array.from({ length: 10_000 }, (_, i) => ({ at: i, failed: i % 2 === 0 }));
    const step = recordOutcome({ status: 'closed', consecutiveFailures: 0, samples: old }, 'success', 20_000, cfg);
    expect(step.state.status).toBe('closed');
    const samples = (step.state as Extract<CircuitState, { status: 'closed' }>).samples;
    expect(samples).toHaveLength(10_000);
    expect(samples[0]).toEqual({ at: 1, failed: false });
    expect(samples.at(-1)).toEqual({ at: 20_000, failed: false });
  });

  it('frees a probe slot on each outcome while half-open, closing only with enough successes', () => {
    const cfg = resolveBreakerConfig({ failureThreshold: 1, coolDownMs: 10, halfOpenMaxProbes: 3, successesToClose: 3 });
    const three = admit(admit(admit(fail(closedCircuit, 1, 0, cfg).state, 10, cfg).state, 10, cfg).state, 10, cfg).state;
    expect(three).toEqual({ status: 'half-open', probesInFlight: 3, probeSuccesses: 0 });
    const ignored = recordOutcome(three, 'ignored', 11, cfg);
    expect(ignored).toEqual({ state: { status: 'half-open', probesInFlight: 2, probeSuccesses: 0 } });
    const succeeded = recordOutcome(ignored.state, 'success', 12, cfg);
    expect(succeeded).toEqual({ state: { status: 'half-open', probesInFlight: 1, probeSuccesses: 1 } });
    expect(isAvailable(succeeded.state, 12, cfg)).toBe(true);
    expect(recordOutcome({ status: 'half-open', probesInFlight: 0, probeSuccesses: 0 }, 'ignored', 13, cfg).state).toMatchObject({ probesInFlight: 0 });
  });

  it('restores the state a stored transition names, with fresh counters', () => {
    expect(stateAfter({ to: 'open', at: 5, reopenAt: 50, reason: 'x' })).toEqual({ status: 'open', openedAt: 5, reopenAt: 50 });
    expect(stateAfter({ to: 'half-open', at: 5 })).toEqual({ status: 'half-open', probesInFlight: 0, probeSuccesses: 0 });
    expect(stateAfter({ to: 'closed', at: 5 })).toBe(closedCircuit);
  });

  it('defaults: 5 consecutive failures, 30 s cool-down, one probe, one success to close; no rate window', () => {
    expect(resolveBreakerConfig()).toEqual({ failureThreshold: 5, coolDownMs: 30_000, halfOpenMaxProbes: 1, successesToClose: 1 });
    expect(resolveBreakerConfig()).toEqual(defaultCircuitBreakerConfig);
    expect(fail(closedCircuit, 4, 0, defaultCircuitBreakerConfig).state.status).toBe('closed');
    expect(fail(closedCircuit, 5, 0, defaultCircuitBreakerConfig).state).toEqual({ status: 'open', openedAt: 0, reopenAt: 30_000 });
  });

  it('names each nonsensical setting, and accepts the edges', () => {
    expect(() => resolveBreakerConfig({ failureThreshold: 0 })).toThrow(new RangeError('circuit breaker failureThreshold must be >= 1, got 0'));
    expect(() => resolveBreakerConfig({ failureThreshold: Number.POSITIVE_INFINITY })).toThrow(/failureThreshold must be >= 1, got Infinity/);
    expect(() => resolveBreakerConfig({ halfOpenMaxProbes: 0 })).toThrow(new RangeError('circuit breaker halfOpenMaxProbes must be >= 1, got 0'));
    expect(() => resolveBreakerConfig({ successesToClose: 0.5 })).toThrow(new RangeError('circuit breaker successesToClose must be >= 1, got 0.5'));
    expect(() => resolveBreakerConfig({ coolDownMs: -1 })).toThrow(new RangeError('circuit breaker coolDownMs must be >= 0, got -1'));
    expect(() => resolveBreakerConfig({ coolDownMs: Number.NaN })).toThrow(/coolDownMs/);
    expect(() => resolveBreakerConfig({ failureRate: { threshold: 0, windowMs: 1, minimumCalls: 1 } })).toThrow(new RangeError('circuit breaker failureRate.threshold must be in (0, 1], got 0'));
    expect(resolveBreakerConfig({ failureThreshold: 1, halfOpenMaxProbes: 1, successesToClose: 1, coolDownMs: 0, failureRate: { threshold: 1, windowMs: 1, minimumCalls: 1 } })).toMatchObject({ coolDownMs: 0 });
  });
});
