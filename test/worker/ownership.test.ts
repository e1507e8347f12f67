/**
 * Two workers with different definitions on one store, each driving only its own workflows; an
 * orders workflow whose shipping agent no worker has waits, visibly, and completes once a worker
 * with that agent starts. (Needs the runtime's ownership and waiting; see docs/embedding.md.)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cadenza, effects, ended, history, ledger, order, ordersConfig, startWorker, stopWorker, tradingConfig, until, waitFor, type RunningWorker } from './support.js';

const dir = mkdtempSync(join(tmpdir(), 'cadenza-owners-'));
const store = `sqlite:${join(dir, 'store.db')}`;
const ledgerFile = join(dir, 'ledger.jsonl');
const workers: RunningWorker[] = [];

afterAll(async () => {
  for (const worker of workers) await stopWorker(worker);
  rmSync(dir, { recursive: true, force: true });
});

const trade = JSON.stringify({ symbol: 'ACME', side: 'buy', quantity: 5, account: 'acct-1' });

describe('workers with different definitions on one store', () => {
  it('each drives only its own workflows; a step with no agent waits until one registers', async () => {
    // Orders without shipping, and trading: neither can ship an order.
    const orders = await startWorker(['--store', store, 'worker', '--config', ordersConfig], { ORDERS_LEDGER: ledgerFile, ORDERS_CAPABILITIES: 'payments,inventory' });
    workers.push(orders);
    workers.push(await startWorker(['--store', store, 'worker', '--config', tradingConfig]));

    for (const [saga, id, input] of [['order-fulfilment', 'owned-order', order('owned-order')], ['trading-pipeline', 'owned-trade', trade]] as const) {
      const started = await cadenza(['--store', store, 'run', saga, '--config', saga === 'trading-pipeline' ? tradingConfig : ordersConfig, '--no-wait', '--workflow-id', id, '--input', input], { ORDERS_LEDGER: ledgerFile });
      expect(started.code, started.stderr).toBe(0);
    }
    expect(['WorkflowCompleted', 'WorkflowCompensated']).toContain(await ended(store, 'owned-trade'));

    // The order is charged and reserved, then waits for a shipping agent: not failed, not rolled back.
    await waitFor(() => ['charge', 'reserve'].every((action) => effects(ledgerFile, 'owned-order').includes(action)), 'the order to be charged and reserved');
    let view = '';
    const status = await until(async () => {
      view = (await cadenza(['--store', store, 'status', 'owned-order', '--json'])).stdout;
      const parsed = JSON.parse(view || '{}') as { status?: string; steps?: { waitingForAgent?: string[] } };
      return parsed.steps?.waitingForAgent?.includes('ship') ? parsed : undefined;
    }, () => `the order's status to show ship waiting for an agent (status: ${view.replace(/\s+/g, ' ').slice(0, 400)})`);
    const human = await cadenza(['--store', store, 'status', 'owned-order']);
    expect(human.stdout).toMatch(/ship +waiting ?for ?(an )?agent/i);
    expect(effects(ledgerFile, 'owned-order')).toEqual(['charge', 'reserve']);
    expect(status.status).toBe('running');

    // A worker with the shipping agent starts: the order ships, nothing was rolled back.
    const shipping = await startWorker(['--store', store, 'worker', '--config', ordersConfig], { ORDERS_LEDGER: ledgerFile, ORDERS_CAPABILITIES: 'shipping' });
    workers.push(shipping);
    expect(await ended(store, 'owned-order')).toBe('WorkflowCompleted');
    expect(effects(ledgerFile, 'owned-order')).toEqual(['charge', 'reserve', 'ship']);
    expect(ledger(ledgerFile).find((line) => line.action === 'ship' && line.kind === 'call')?.pid).toBe(shipping.child.pid);

    // No worker failed a step for lack of agents, in either workflow: each was driven by its owner only.
    for (const id of ['owned-order', 'owned-trade']) {
      const noAgent = (await history(store, id)).filter((event) => JSON.stringify(event.data).includes('NO_AGENT'));
      expect(noAgent, `${id}: steps failed for lack of an agent`).toEqual([]);
    }
    for (const worker of workers) worker.child.kill('SIGTERM');
    for (const worker of workers) expect(await worker.exited).toBe(0);
  }, 180_000);
});
