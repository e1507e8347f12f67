/**
 * The circuit breaker as a pure state machine: every function takes (state, input, now, config)
 * and returns the next state plus the transition to record, if any. No clock, no I/O: the registry
 * persists transitions as events and the invoker feeds outcomes in.
 *
 *   closed ──(N consecutive failures, or failure rate over a window)──▶ open
 *   open ──(first request after the cool-down)──▶ half-open
 *   half-open ──(enough probe successes)──▶ closed
 *   half-open ──(a probe fails)──▶ open (a new cool-down)
 */

export interface FailureRateConfig {
  /** Open when failures / calls in the window reach this fraction (0..1]. */
  readonly threshold: number;
  readonly windowMs: number;
  /** Fewer calls than this in the window never open the circuit by rate. */
  readonly minimumCalls: number;
}

export interface CircuitBreakerConfig {
  /** Consecutive failures that open a closed circuit. */
  readonly failureThreshold: number;
  /** Optional second trigger; off unless given. */
  readonly failureRate?: FailureRateConfig;
  /** How long an open circuit rejects calls before it lets probes through. */
  readonly coolDownMs: number;
  /** Probe calls allowed at once while half-open (per process). */
  readonly halfOpenMaxProbes: number;
  /** Probe successes that close a half-open circuit. */
  readonly successesToClose: number;
}

export const defaultCircuitBreakerConfig: CircuitBreakerConfig = Object.freeze({
  failureThreshold: 5,
  coolDownMs: 30_000,
  halfOpenMaxProbes: 1,
  successesToClose: 1,
});

/** Samples kept for the failure-rate window, at most: bounds memory under heavy traffic. */
const MAX_SAMPLES = 10_000;

export interface CallSample {
  readonly at: number;
  readonly failed: boolean;
}

export type CircuitState =
  | { readonly status: 'closed'; readonly consecutiveFailures: number; readonly samples: readonly CallSample[] }
  | { readonly status: 'open'; readonly openedAt: number; readonly reopenAt: number }
  | { readonly status: 'half-open'; readonly probesInFlight: number; readonly probeSuccesses: number };

export type CircuitStatus = CircuitState['status'];

export type CircuitTransition =
  | { readonly to: 'open'; readonly at: number; readonly reopenAt: number; readonly reason: string }
  | { readonly to: 'half-open'; readonly at: number }
  | { readonly to: 'closed'; readonly at: number };

/** What happened to a call, as far as the agent's health goes. `ignored`: no verdict (cancelled). */
export type CallOutcome = 'success' | 'failure' | 'ignored';

export interface CircuitStep {
  readonly state: CircuitState;
  readonly transition?: CircuitTransition;
}

export interface CircuitAdmission extends CircuitStep {
  readonly allowed: boolean;
}

export const closedCircuit: CircuitState = Object.freeze({ status: 'closed', consecutiveFailures: 0, samples: [] });

export function openCircuit(now: number, config: CircuitBreakerConfig, reason: string): CircuitStep {
  const reopenAt = now + config.coolDownMs;
  return { state: { status: 'open', openedAt: now, reopenAt }, transition: { to: 'open', at: now, reopenAt, reason } };
}

/** Ask to make a call. Open circuits past their cool-down turn half-open here, on demand. */
export function admit(state: CircuitState, now: number, config: CircuitBreakerConfig): CircuitAdmission {
  switch (state.status) {
    case 'closed':
      return { state, allowed: true };
    case 'open': {
      if (now < state.reopenAt) return { state, allowed: false };
      const halfOpen: CircuitState = { status: 'half-open', probesInFlight: 0, probeSuccesses: 0 };
      return { ...admit(halfOpen, now, config), transition: { to: 'half-open', at: now } };
    }
    case 'half-open':
      if (state.probesInFlight >= config.halfOpenMaxProbes) return { state, allowed: false };
      return { state: { ...state, probesInFlight: state.probesInFlight + 1 }, allowed: true };
  }
}

/** Record the outcome of a call that {@link admit} allowed. */
export function recordOutcome(state: CircuitState, outcome: CallOutcome, now: number, config: CircuitBreakerConfig): CircuitStep {
  switch (state.status) {
    case 'closed':
      return closedOutcome(state, outcome, now, config);
    case 'half-open':
      return halfOpenOutcome(state, outcome, now, config);
    case 'open':
      // A call admitted before the circuit opened (perhaps by another process): no new information.
      return { state };
  }
}

function closedOutcome(
  state: Extract<CircuitState, { status: 'closed' }>,
  outcome: CallOutcome,
  now: number,
  config: CircuitBreakerConfig,
): CircuitStep {
  if (outcome === 'ignored') return { state };
  // The common case, a success on a healthy circuit without a rate window: nothing changes.
  if (outcome === 'success' && state.consecutiveFailures === 0 && !config.failureRate) return { state };
  const failed = outcome === 'failure';
  const consecutiveFailures = failed ? state.consecutiveFailures + 1 : 0;
  const samples = config.failureRate ? windowed([...state.samples, { at: now, failed }], now, config.failureRate) : [];
  if (consecutiveFailures >= config.failureThreshold) {
    return openCircuit(now, config, `${consecutiveFailures} consecutive failures`);
  }
  const rate = config.failureRate && failureRateOf(samples, config.failureRate);
  if (rate !== undefined && config.failureRate && rate >= config.failureRate.threshold) {
    return openCircuit(now, config, `failure rate ${Math.round(rate * 100)}% over ${samples.length} calls`);
  }
  return { state: { status: 'closed', consecutiveFailures, samples } };
}

function halfOpenOutcome(
  state: Extract<CircuitState, { status: 'half-open' }>,
  outcome: CallOutcome,
  now: number,
  config: CircuitBreakerConfig,
): CircuitStep {
  const probesInFlight = Math.max(0, state.probesInFlight - 1);
  if (outcome === 'ignored') return { state: { ...state, probesInFlight } };
  if (outcome === 'failure') return openCircuit(now, config, 'probe failed');
  const probeSuccesses = state.probeSuccesses + 1;
  if (probeSuccesses >= config.successesToClose) {
    return { state: closedCircuit, transition: { to: 'closed', at: now } };
  }
  return { state: { status: 'half-open', probesInFlight, probeSuccesses } };
}

function windowed(samples: readonly CallSample[], now: number, rate: FailureRateConfig): CallSample[] {
  const from = now - rate.windowMs;
  const recent = samples.filter((sample) => sample.at > from);
  return recent.length > MAX_SAMPLES ? recent.slice(recent.length - MAX_SAMPLES) : recent;
}

/** Failure fraction in the window, or undefined below the minimum number of calls. */
function failureRateOf(samples: readonly CallSample[], rate: FailureRateConfig): number | undefined {
  if (samples.length === 0 || samples.length < rate.minimumCalls) return undefined;
  return samples.filter((sample) => sample.failed).length / samples.length;
}

/** Could a call be admitted now? (Discovery asks this without taking a probe slot.) */
export function isAvailable(state: CircuitState, now: number, config: CircuitBreakerConfig): boolean {
  switch (state.status) {
    case 'closed':
      return true;
    case 'open':
      return now >= state.reopenAt && config.halfOpenMaxProbes > 0;
    case 'half-open':
      return state.probesInFlight < config.halfOpenMaxProbes;
  }
}

/** The state a stored transition puts the circuit in (probe and failure counters start afresh). */
export function stateAfter(transition: CircuitTransition): CircuitState {
  switch (transition.to) {
    case 'open':
      return { status: 'open', openedAt: transition.at, reopenAt: transition.reopenAt };
    case 'half-open':
      return { status: 'half-open', probesInFlight: 0, probeSuccesses: 0 };
    case 'closed':
      return closedCircuit;
  }
}

export function resolveBreakerConfig(overrides: Partial<CircuitBreakerConfig> = {}): CircuitBreakerConfig {
  const config = { ...defaultCircuitBreakerConfig, ...overrides };
  const positive = (name: string, value: number): void => {
    if (!Number.isFinite(value) || value < 1) throw new RangeError(`circuit breaker ${name} must be >= 1, got ${value}`);
  };
  positive('failureThreshold', config.failureThreshold);
  positive('halfOpenMaxProbes', config.halfOpenMaxProbes);
  positive('successesToClose', config.successesToClose);
  if (!(config.coolDownMs >= 0)) throw new RangeError(`circuit breaker coolDownMs must be >= 0, got ${config.coolDownMs}`);
  if (config.failureRate && !(config.failureRate.threshold > 0 && config.failureRate.threshold <= 1)) {
    throw new RangeError(`circuit breaker failureRate.threshold must be in (0, 1], got ${config.failureRate.threshold}`);
  }
  return config;
}
