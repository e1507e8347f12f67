/**
 * Operator commands from the CLI against a running worker, for a user saga (order fulfilment): the
 * CLI only appends the command (it hosts no agents); the worker that owns the workflow carries it
 * on at once. The same worker serves the HTTP API (`--http`), read over a real socket.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cadenza, effects, ended, order, ordersConfig, startWorker, stopWorker, until, waitFor, type RunningWorker } from './support.js';

const dir = mkdtempSync(join(tmpdir(), 'cadenza-operator-'));
const store = `sqlite:${join(dir, 'store.db')}`;
const ledgerFile = join(dir, 'ledger.jsonl');
let worker: RunningWorker | undefined;

afterAll(async () => {
  await stopWorker(worker);
  rmSync(dir, { recursive: true, force: true });
});

describe('operator commands from the CLI against a running worker', () => {
  it('cancel and compensate take effect at once; resolve is refused, with the reason, for a workflow that did not fail to compensate', async () => {
    // A worker without a shipping agent: orders are charged and reserved, then wait to ship.
    worker = await startWorker(['--store', store, 'worker', '--config', ordersConfig, '--http', '127.0.0.1:0'], { ORDERS_LEDGER: ledgerFile, ORDERS_CAPABILITIES: 'payments,inventory' });
    const api = await until(async () => worker?.logs().find((line) => line.msg === 'api listening')?.url as string | undefined, 'the worker to serve its HTTP API');

    for (const id of ['to-cancel', 'to-compensate']) {
      const started = await cadenza(['--store', store, 'run', 'order-fulfilment', '--config', ordersConfig, '--no-wait', '--workflow-id', id, '--input', order(id)], { ORDERS_LEDGER: ledgerFile });
      expect(started.code, started.stderr).toBe(0);
      await waitFor(() => ['charge', 'reserve'].every((action) => effects(ledgerFile, id).includes(action)), `${id} to be charged and reserved`);
    }

    // resolve makes no sense here: refused with the reason, nothing appended.
    const refused = await cadenza(['--store', store, 'resolve', 'to-cancel', '--note', 'nothing to do']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/Cannot resolve: workflow to-cancel is running \(only a workflow whose compensation failed can be resolved\)/);
    expect(refused.stderr).not.toMatch(/\n\s+at /);

    // The commands are appended by the CLI and carried out by the worker: refund and release run there.
    const cancelled = await cadenza(['--store', store, 'cancel', 'to-cancel', '--reason', 'customer asked']);
    expect(cancelled.code, cancelled.stderr).toBe(0);
    expect(cancelled.stdout).toContain('appended CompensationStarted');
    const compensated = await cadenza(['--store', store, 'compensate', 'to-compensate', '--reason', 'stock recount']);
    expect(compensated.code, compensated.stderr).toBe(0);
    // No step of these workflows has a timeout short enough to explain an end within this deadline:
    // only the owner's wake on the appended command can.
    expect(await ended(store, 'to-cancel', 15_000)).toBe('WorkflowCancelled');
    expect(await ended(store, 'to-compensate', 15_000)).toBe('WorkflowCompensated');
    for (const id of ['to-cancel', 'to-compensate']) expect(effects(ledgerFile, id)).toEqual(['charge', 'refund', 'release', 'reserve']);

    // The same worker's HTTP API sees it, over a real socket.
    const response = await fetch(`${api}/api/v1/workflows/to-cancel`);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ workflowId: 'to-cancel', status: 'cancelled' });
  }, 180_000);
});
