import { AgentInvoker } from '../../src/agents/invoker.js';
import { AgentRegistry, type AgentRegistryOptions } from '../../src/agents/registry.js';
import type { AgentCall } from '../../src/agents/transport.js';
import { openStore } from '../../src/store/open.js';
import type { EventStore } from '../../src/store/port.js';

/** A clock the test moves by hand: cool-downs pass without sleeping. */
export class ManualClock {
  constructor(public time = 1_700_000_000_000) {}
  readonly now = (): number => this.time;
  advance(ms: number): void {
    this.time += ms;
  }
}

export async function memoryStore(): Promise<EventStore> {
  return openStore('memory:');
}

export async function openRegistry(store: EventStore, clock: ManualClock, options: Partial<AgentRegistryOptions> = {}): Promise<AgentRegistry> {
  return AgentRegistry.open({ store, now: clock.now, circuitBreaker: { failureThreshold: 2, coolDownMs: 10_000 }, ...options });
}

export function invokerFor(registry: AgentRegistry, options: Partial<ConstructorParameters<typeof AgentInvoker>[0]> = {}): AgentInvoker {
  return new AgentInvoker({ registry, ...options });
}

export function call(clock: ManualClock, overrides: Partial<AgentCall> = {}): AgentCall {
  const workflowId = overrides.workflowId ?? 'wf-1';
  const stepId = overrides.stepId ?? 'step-a';
  const attempt = overrides.attempt ?? 1;
  return {
    workflowId,
    stepId,
    attempt,
    action: 'work',
    input: { n: 1 },
    idempotencyKey: `${workflowId}:${stepId}`,
    deadline: clock.time + 5_000,
    kind: 'step',
    ...overrides,
  };
}

/** Settles on the next macrotask: lets queued promise chains run. */
export function tick(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
