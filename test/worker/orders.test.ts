/**
 * A worker hosting the orders saga, as a user runs it: `cadenza worker --config` in one process,
 * orders appended by `cadenza run --no-wait` from others. Good orders ship; an order the carrier
 * cannot deliver is rolled back (the charge refunded, the stock released), and the ledger shows it.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cadenza, effects, ended, order, ordersConfig, startWorker, stopWorker, type RunningWorker } from './support.js';

const dir = mkdtempSync(join(tmpdir(), 'cadenza-orders-'));
const store = `sqlite:${join(dir, 'store.db')}`;
const ledgerFile = join(dir, 'ledger.jsonl');
let worker: RunningWorker | undefined;

afterAll(async () => {
  await stopWorker(worker);
  rmSync(dir, { recursive: true, force: true });
});

describe('a worker with the orders config', () => {
  it('completes orders and compensates a failed shipment, then drains on SIGTERM and exits 0', async () => {
    worker = await startWorker(['--store', store, '--json', 'worker', '--config', ordersConfig], { ORDERS_LEDGER: ledgerFile });
    for (const [id, country] of [['order-1', 'FR'], ['order-2', 'US'], ['order-3', 'AQ']] as const) {
      const started = await cadenza(['--store', store, 'run', 'order-fulfilment', '--config', ordersConfig, '--no-wait', '--workflow-id', id, '--input', order(id, country)], { ORDERS_LEDGER: ledgerFile });
      expect(started.code, started.stderr).toBe(0);
    }
    expect(await ended(store, 'order-1')).toBe('WorkflowCompleted');
    expect(await ended(store, 'order-2')).toBe('WorkflowCompleted');
    expect(await ended(store, 'order-3')).toBe('WorkflowCompensated');

    // Shipped orders were charged and reserved once, and nothing was rolled back.
    expect(effects(ledgerFile, 'order-1')).toEqual(['charge', 'reserve', 'ship']);
    expect(effects(ledgerFile, 'order-2')).toEqual(['charge', 'reserve', 'ship']);
    // The undeliverable one: charged and refunded, reserved and released, never shipped.
    expect(effects(ledgerFile, 'order-3')).toEqual(['charge', 'refund', 'release', 'reserve']);

    const status = await cadenza(['--store', store, 'status', 'order-3', '--json']);
    expect(JSON.parse(status.stdout)).toMatchObject({ status: 'compensated', name: 'order-fulfilment' });

    worker.child.kill('SIGTERM');
    expect(await worker.exited).toBe(0);
    expect(JSON.parse(worker.stdout())).toMatchObject({ drained: true });
    const messages = worker.logs().map((line) => line.msg);
    expect(messages).toEqual(expect.arrayContaining(['worker started', 'workflow ended', 'draining', 'worker stopped']));
  }, 120_000);

  it('calls a remote agent named by URL in remoteAgents (HTTP over a real socket)', async () => {
    const received: { action: string; idempotencyKey: string }[] = [];
    const carrier = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString()));
      request.on('end', () => {
        const call = JSON.parse(body) as { action: string; idempotencyKey: string; input: { orderId: string } };
        received.push({ action: call.action, idempotencyKey: call.idempotencyKey });
        response.setHeader('content-type', 'application/json');
        response.end(JSON.stringify({ ok: true, output: { trackingId: `remote-${call.input.orderId}` } }));
      });
    });
    await new Promise<void>((resolve) => carrier.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(carrier.address() as AddressInfo).port}/ship`;
    // The orders config's payments and inventory agents, and shipping by URL.
    const remoteConfig = join(dirname(ordersConfig), 'remote.config.mjs');
    writeFileSync(remoteConfig, `import { orderAgents } from './agents.mjs';
export default {
  definitions: ['./order-fulfilment.json'],
  agents: orderAgents({ ledgerFile: process.env.ORDERS_LEDGER, capabilities: ['payments', 'inventory'] }),
  remoteAgents: [{ id: 'remote-carrier', capabilities: ['shipping'], url: ${JSON.stringify(url)} }],
};
`);
    try {
      const run = await cadenza(['--store', store, '--json', 'run', 'order-fulfilment', '--config', remoteConfig, '--workflow-id', 'remote-1', '--input', order('remote-1')], { ORDERS_LEDGER: ledgerFile });
      expect(run.code, run.stderr).toBe(0);
      expect(JSON.parse(run.stdout)).toMatchObject({ workflowId: 'remote-1', status: 'completed' });
      expect(received).toEqual([{ action: 'ship', idempotencyKey: expect.stringContaining('remote-1') as string }]);
      expect(effects(ledgerFile, 'remote-1')).toEqual(['charge', 'reserve']);
    } finally {
      carrier.close();
    }
  }, 120_000);
});
