// `cadenza worker --config sagas/orders/cadenza.config.mjs`: the order fulfilment saga and its agents.
// ORDERS_LEDGER (default ./.cadenza/orders-ledger.jsonl) is the simulated ledger, ORDERS_DELAY_MS
// a delay per call, ORDERS_CAPABILITIES (e.g. "payments,inventory") the agents this worker hosts.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { orderAgents } from './agents.mjs';

const ledgerFile = process.env.ORDERS_LEDGER ?? './.cadenza/orders-ledger.jsonl';
mkdirSync(dirname(ledgerFile), { recursive: true });

export default {
  definitions: ['./order-fulfilment.json'],
  agents: orderAgents({
    ledgerFile,
    delayMs: Number(process.env.ORDERS_DELAY_MS ?? 0),
    ...(process.env.ORDERS_CAPABILITIES ? { capabilities: process.env.ORDERS_CAPABILITIES.split(',') } : {}),
  }),
  drainTimeoutMs: Number(process.env.ORDERS_DRAIN_MS ?? 10_000),
};
