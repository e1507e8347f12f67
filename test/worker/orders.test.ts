/**
 * A worker hosting the orders saga, as a user runs it: `cadenza worker --config` in one process,
 * orders appended by `cadenza run --no-wait` from others. Good orders ship; an order the carrier
 * cannot deliver is rolled back (the charge refunded, the stock released), and the ledger shows it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
    expect(JSON.parse(worker.stdout())).toMatchObject({ drained: true, abandonedCalls: 0 });
    const messages = worker.logs().map((line) => line.msg);
    expect(messages).toEqual(expect.arrayContaining(['worker started', 'workflow ended', 'draining', 'worker stopped']));
  }, 120_000);
});
