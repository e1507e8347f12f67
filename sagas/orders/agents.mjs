// The order fulfilment agents, written the way a user writes theirs: plain async functions, one
// per action, grouped into agents with defineAgent. The "payments provider", "warehouse" and
// "carrier" are simulated by a ledger file of JSON lines (one line per call and what it did), so
// that any process, a test included, can see what was charged, refunded, reserved and released.
import { appendFileSync } from 'node:fs';
import { AgentFailure, defineAgent } from 'cadenza';

/** Countries the simulated carrier delivers to: any other address fails the shipment for good. */
const deliverable = new Set(['FR', 'DE', 'GB', 'US', 'NL']);

/**
 * @param {{ ledgerFile: string, delayMs?: number, capabilities?: string[] }} options
 *   `delayMs`: how long every call takes (to catch a worker mid-flight); `capabilities`: which of
 *   payments, inventory and shipping to host (default all).
 */
export function orderAgents({ ledgerFile, delayMs = 0, capabilities = ['payments', 'inventory', 'shipping'] }) {
  // Each call is written to the ledger as it arrives (so tests count deliveries per idempotency key), then its effect.
  const record = (entry) => appendFileSync(ledgerFile, `${JSON.stringify({ pid: process.pid, ...entry })}\n`);
  const handle = (action, perform) => async (input, ctx) => {
    record({ kind: 'call', action, key: ctx.idempotencyKey, workflowId: ctx.call.workflowId, stepId: ctx.call.stepId, attempt: ctx.attempt });
    if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
    const output = await perform(input, ctx);
    record({ kind: 'effect', action, workflowId: ctx.call.workflowId, ...output });
    return output;
  };

  const agents = {
    payments: defineAgent({
      id: 'payments',
      capabilities: ['payments'],
      handlers: {
        // The charge id is derived from the order: a redelivered charge is the same charge.
        charge: handle('charge', async ({ orderId, amount }) => ({ chargeId: `ch-${orderId}`, amount })),
        refund: handle('refund', async ({ chargeId, amount }) => ({ chargeId, refunded: amount })),
      },
    }),
    inventory: defineAgent({
      id: 'inventory',
      capabilities: ['inventory'],
      handlers: {
        reserve: handle('reserve', async ({ orderId, items }) => ({ reservationId: `res-${orderId}`, items })),
        release: handle('release', async ({ reservationId }) => ({ reservationId, released: true })),
      },
    }),
    shipping: defineAgent({
      id: 'shipping',
      capabilities: ['shipping'],
      handlers: {
        ship: handle('ship', async ({ orderId, address }) => {
          if (!deliverable.has(address?.country)) throw new AgentFailure(`Cannot deliver to country "${address?.country}"`, 'undeliverable', false);
          return { trackingId: `trk-${orderId}`, carrier: 'simulated-post' };
        }),
      },
    }),
  };
  return capabilities.map((capability) => agents[capability]);
}
