/** Shared set-up for the runtime's integration tests: a real store, a registry, a runtime. */
import { AgentRegistry, inProcessTransport, type ActionHandler, type AgentDefinition, type CircuitBreakerConfig } from '../../src/agents/index.js';
import { SagaRuntime, type SagaRuntimeOptions } from '../../src/saga/runtime/index.js';
import { openStore } from '../../src/store/open.js';
import type { EventStore, RecordedEvent } from '../../src/store/port.js';

export interface TestEngine {
  readonly store: EventStore;
  readonly registry: AgentRegistry;
  readonly runtime: SagaRuntime;
  stop(): Promise<void>;
}

export async function startTestEngine(options: {
  agents: AgentDefinition[];
  store?: EventStore;
  circuitBreaker?: Partial<CircuitBreakerConfig>;
  runtime?: Partial<SagaRuntimeOptions>;
}): Promise<TestEngine> {
  const store = options.store ?? (await openStore('memory:'));
  const registry = await AgentRegistry.open({ store, ...(options.circuitBreaker ? { circuitBreaker: options.circuitBreaker } : {}) });
  for (const agent of options.agents) await registry.register(agent);
  const runtime = await SagaRuntime.start({ store, registry, ...options.runtime });
  return {
    store,
    registry,
    runtime,
    async stop() {
      await runtime.stop();
      await registry.close();
      if (!options.store) await store.close();
    },
  };
}

export function agent(id: string, capabilities: string[], handlers: Record<string, ActionHandler>, extra: Partial<AgentDefinition> = {}): AgentDefinition {
  return { id, capabilities, transport: inProcessTransport(handlers), ...extra };
}

export async function historyOf(store: EventStore, workflowId: string): Promise<RecordedEvent[]> {
  const events: RecordedEvent[] = [];
  for await (const event of store.readStream(`workflow-${workflowId}`)) events.push(event);
  return events;
}

export function dataOf(event: RecordedEvent): Record<string, unknown> {
  return event.data as Record<string, unknown>;
}

/** A promise with its resolve handle: lets a test hold agents until it says go. */
export function deferred<T = void>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}
