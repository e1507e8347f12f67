/**
 * `cadenza retry` from the CLI against a running worker (real processes): a workflow whose failure
 * strategy is `pause` stops at a failed shipment; once the carrier is back, the CLI appends the retry
 * (it hosts no agents) and the worker that owns the workflow ships and completes it, without
 * charging or reserving again.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cadenza, effects, ended, history, ledger, order, startWorker, stopWorker, until, userProject, type RunningWorker } from './support.js';

const project = userProject('cadenza-retry-');
const store = `sqlite:${join(project, 'store.db')}`;
const ledgerFile = join(project, 'ledger.jsonl');
const carrierDown = join(project, 'carrier-down');
let worker: RunningWorker | undefined;

// The orders saga as a user changes it: pause for an operator instead of compensating, and a carrier
// that refuses every shipment while the file `carrier-down` exists.
const definition = JSON.parse(readFileSync(join(project, 'order-fulfilment.json'), 'utf8')) as Record<string, unknown>;
writeFileSync(join(project, 'paused-order.json'), JSON.stringify({ ...definition, name: 'paused-order', failureStrategy: 'pause' }));
writeFileSync(
  join(project, 'paused.config.mjs'),
  `import { appendFileSync, existsSync } from 'node:fs';
import { AgentFailure, defineAgent } from 'cadenza';
import { orderAgents } from './agents.mjs';
const ledgerFile = process.env.ORDERS_LEDGER;
const flakyCarrier = defineAgent({
  id: 'flaky-carrier',
  capabilities: ['shipping'],
  handlers: {
    ship: async ({ orderId }, ctx) => {
      if (existsSync(${JSON.stringify(carrierDown)})) throw new AgentFailure('carrier is down', 'carrier-down', false);
      appendFileSync(ledgerFile, JSON.stringify({ pid: process.pid, kind: 'effect', action: 'ship', workflowId: ctx.call.workflowId, key: ctx.idempotencyKey }) + '\\n');
      return { trackingId: 'trk-' + orderId };
    },
  },
});
export default { definitions: ['./paused-order.json'], agents: [...orderAgents({ ledgerFile, capabilities: ['payments', 'inventory'] }), flakyCarrier] };
`,
);
const config = join(project, 'paused.config.mjs');

afterAll(async () => {
  await stopWorker(worker);
  rmSync(project, { recursive: true, force: true });
});

describe('cadenza retry against a running worker', () => {
  it('resumes a paused workflow in the worker that owns it; succeeded steps do not run again', async () => {
    writeFileSync(carrierDown, '');
    worker = await startWorker(['--store', store, 'worker', '--config', config], { ORDERS_LEDGER: ledgerFile });
    const started = await cadenza(['--store', store, 'run', 'paused-order', '--config', config, '--no-wait', '--workflow-id', 'o-1', '--input', order('o-1')], { ORDERS_LEDGER: ledgerFile });
    expect(started.code, started.stderr).toBe(0);

    // Paused for an operator: the shipment failed for good, nothing was compensated.
    await until(async () => ((await history(store, 'o-1')).some((e) => e.type === 'WorkflowPaused') ? true : undefined), 'o-1 to pause at the failed shipment', 60_000);
    expect(effects(ledgerFile, 'o-1')).toEqual(['charge', 'reserve']);

    // The carrier is back; the CLI only appends the retry, and the worker carries it out.
    rmSync(carrierDown);
    const retried = await cadenza(['--store', store, 'retry', 'o-1']);
    expect(retried.code, retried.stderr).toBe(0);
    expect(retried.stdout).toMatch(/o-1: appended WorkflowResumed/);
    expect(await ended(store, 'o-1', 30_000)).toBe('WorkflowCompleted');
    // Shipped once; charge and reserve, which had succeeded, were not called again.
    expect(effects(ledgerFile, 'o-1')).toEqual(['charge', 'reserve', 'ship']);
    const calls = ledger(ledgerFile).filter((line) => line.kind === 'call' && line.workflowId === 'o-1').map((line) => line.action).sort();
    expect(calls).toEqual(['charge', 'reserve']);
    expect(worker.child.exitCode).toBeNull();
  }, 180_000);
});
