/** A store with an engine hosting a small order saga (charge, then ship; a failed shipment refunds), for the API suites. */
import { createEngine, defineAgent, type Engine } from '../../src/engine/index.js';
import { openStore } from '../../src/store/open.js';
import type { EventStore, RecordedEvent } from '../../src/store/port.js';
import { workflow } from '../../src/workflow/index.js';

export const order = workflow('order')
  .requireInput('amount')
  .step({ id: 'charge', action: 'charge', capability: 'payments', input: { amount: 'input.amount' }, output: { payment: '$' }, compensation: { action: 'refund', input: { paymentId: '$output.paymentId' } } })
  .step({ id: 'ship', action: 'ship', capability: 'shipping', dependsOn: ['charge'], input: { amount: 'input.amount' }, retry: { maxAttempts: 1 } })
  .build();

/** One step, paused for an operator when it fails. */
export const pausingOrder = workflow('pausing-order').onFailure('pause').step({ id: 'ship', action: 'ship', capability: 'shipping', retry: { maxAttempts: 1 } }).build();

/** Charge then ship, where the refund always fails: a failed shipment leaves it compensationFailed, for an operator to resolve. */
export const unrefundableOrder = workflow('unrefundable-order')
  .step({ id: 'charge', action: 'charge', capability: 'payments', compensation: { action: 'lose', retry: { maxAttempts: 1 } } })
  .step({ id: 'ship', action: 'ship', capability: 'shipping', dependsOn: ['charge'], retry: { maxAttempts: 1 } })
  .build();

export interface Fixture {
  readonly store: EventStore;
  readonly engine: Engine;
  /** Ship fails for amounts above 100; `shipFails` makes every shipment fail until set back. */
  readonly switches: { shipFails: boolean };
  close(): Promise<void>;
}

export async function orderFixture(): Promise<Fixture> {
  const store = await openStore('memory:');
  const switches = { shipFails: false };
  const engine = await createEngine({
    store,
    definitions: [order, pausingOrder, unrefundableOrder],
    agents: [
      defineAgent({
        id: 'payments-1',
        capabilities: ['payments'],
        handlers: {
          charge: async (input) => ({ paymentId: `p-${(input as { amount: number }).amount}` }),
          refund: async () => ({ refunded: true }),
          lose: async () => {
            throw new Error('the refund bounced');
          },
        },
      }),
      defineAgent({
        id: 'shipping-1',
        capabilities: ['shipping'],
        handlers: {
          ship: async (input) => {
            if (switches.shipFails || ((input as { amount?: number } | null)?.amount ?? 0) > 100) throw new Error('no courier');
            return { shipped: true };
          },
        },
      }),
    ],
  });
  return {
    store,
    engine,
    switches,
    async close() {
      await engine.stop();
      await store.close();
    },
  };
}

export async function streamEvents(store: EventStore, workflowId: string): Promise<RecordedEvent[]> {
  const events: RecordedEvent[] = [];
  for await (const event of store.readStream(`workflow-${workflowId}`)) events.push(event);
  return events;
}
