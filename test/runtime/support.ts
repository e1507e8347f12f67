/** Shared set-up for the runtime's integration tests: a real store, a registry, a runtime. */
import { expect } from 'vitest';
import { AgentFailure, AgentRegistry, inProcessTransport, type ActionHandler, type AgentDefinition, type CircuitBreakerConfig } from '../../src/agents/index.js';
import { SagaRuntime, type SagaRuntimeOptions } from '../../src/saga/runtime/index.js';
import { UnavailableError } from '../../src/store/errors.js';
import { openStore } from '../../src/store/open.js';
import type { AppendOptions, EventData, EventStore, RecordedEvent, Subscription, SubscribeToAllOptions, SubscriptionMessage } from '../../src/store/port.js';
import { workflow } from '../../src/workflow/index.js';
import { tradingPipeline } from '../../sagas/trading/definition.js';
import { createTradingAgents, type TradingLedger } from '../../sagas/trading/agents.js';

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

/** Fast retries for the operator tests' `shop` workflow: two attempts, 10 ms apart. */
export const fastRetry = { maxAttempts: 2, initialDelayMs: 10, multiplier: 1, maxDelayMs: 10, jitter: 0 };

/**
 * The operator tests' workflow: reserve succeeds, ship fails for good, and the release of the
 * reservation fails while `desk.down` (so the workflow ends compensationFailed until an operator acts).
 * `released` collects the idempotency keys of the releases that went through.
 */
export function shop(desk: { down: boolean }, released: string[]) {
  const definition = workflow('shop')
    .step({ id: 'reserve', action: 'reserve', capability: 'stock', retry: fastRetry, compensation: { action: 'release', retry: fastRetry } })
    .step({ id: 'ship', action: 'ship', capability: 'shipping', dependsOn: ['reserve'], retry: fastRetry, timeoutMs: 60_000 })
    .build();
  const agents = [
    agent('stock', ['stock'], {
      reserve: () => ({ reservation: 'r-1' }),
      release: (_input, ctx) => {
        if (desk.down) throw new AgentFailure('stock desk down', 'unavailable', true);
        released.push(ctx.idempotencyKey);
        return { released: true };
      },
    }),
    agent('shipping', ['shipping'], { ship: () => { throw new AgentFailure('no courier', 'rejected', false); } }),
  ];
  return { definition, agents };
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

/**
 * A trade that fails its post-trade check after the order executed is rolled back in reverse
 * dependency order: the order reversed (with the order id from the execution's output), then the
 * risk reservation released. `engine` must run the agents of `tradingAgentsThatFailPostTrade()`.
 */
export async function expectTradeRolledBack(engine: TestEngine, ledger: TradingLedger): Promise<void> {
    const { workflowId } = await engine.runtime.startWorkflow(tradingPipeline, { symbol: 'ACME', side: 'buy', quantity: 25, account: 'acct-1' });
    const end = await engine.runtime.waitForEnd(workflowId);

    expect(end.status).toBe('compensated');
    const events = await historyOf(engine.store, workflowId);
    const compensations = events.filter((e) => e.type === 'CompensationScheduled').map((e) => dataOf(e).stepId);
    expect(compensations).toEqual(['trade-execution', 'risk-assessment']);
    // Each compensation got what it needed from the step's own output.
    const execution = events.find((e) => e.type === 'StepSucceeded' && dataOf(e).stepId === 'trade-execution')!;
    const orderId = (dataOf(execution).output as { orderId: string }).orderId;
    const reverse = events.find((e) => e.type === 'CompensationScheduled' && dataOf(e).stepId === 'trade-execution')!;
    expect(dataOf(reverse).input).toMatchObject({ orderId, executedQuantity: 25, account: 'acct-1' });
    const release = events.find((e) => e.type === 'CompensationScheduled' && dataOf(e).stepId === 'risk-assessment')!;
    const reverseDone = events.find((e) => e.type === 'CompensationSucceeded' && dataOf(e).stepId === 'trade-execution')!;
    expect(release.revision).toBeGreaterThan(reverseDone.revision);
    expect(ledger.orders.get(orderId)?.reversed).toBe(true);
    expect([...ledger.reservations.values()].every((r) => r.released)).toBe(true);
}

export function tradingAgentsThatFailPostTrade(): { agents: AgentDefinition[]; ledger: TradingLedger } {
  return createTradingAgents({ seed: 7, failureRate: 0, rejectionRate: 0, postTradeFailureRate: 1, latencyMs: 0 });
}

/** The store, with live delivery of the workflow subscription held back until `release()`. */
export function holdingLiveEvents(store: EventStore): { store: EventStore; hold: () => void; release: () => void } {
  let holding = false;
  let released = deferred();
  const wrapper = Object.create(store) as EventStore;
  wrapper.subscribeToAll = (options?: SubscribeToAllOptions): Subscription => {
    const inner = store.subscribeToAll(options);
    return {
      unsubscribe: () => inner.unsubscribe(),
      async *[Symbol.asyncIterator](): AsyncGenerator<SubscriptionMessage> {
        for await (const message of inner) {
          if (holding && message.kind === 'event' && message.event.stream.startsWith('workflow-')) await released.promise;
          yield message;
        }
      },
    };
  };
  return {
    store: wrapper,
    hold: () => {
      holding = true;
      released = deferred();
    },
    release: () => {
      holding = false;
      released.resolve();
    },
  };
}

/**
 * A store whose workflow starts land on their first try but whose answers, that try's and every
 * retry's, are lost (UnavailableError) until `stopLosing`: the runtime gives the start up, and only
 * reading its stream back tells it the start is there.
 */
export function losingStartAnswers(backing: EventStore): { store: EventStore; stopLosing: () => void } {
  let losing = true;
  const stored = new Set<string>();
  const store = new Proxy(backing, {
    get: (target, property) => {
      const value = Reflect.get(target, property, target) as unknown;
      if (property !== 'append') return typeof value === 'function' ? (value as () => unknown).bind(target) : value;
      return async (stream: string, events: EventData[], options?: AppendOptions) => {
        if (!losing || !events.some((event) => event.type === 'WorkflowStarted')) return target.append(stream, events, options);
        if (!stored.has(stream)) await target.append(stream, events, options);
        stored.add(stream);
        throw new UnavailableError('the answer was lost (test)');
      };
    },
  });
  return { store, stopLosing: () => { losing = false; } };
}
