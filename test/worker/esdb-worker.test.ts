/**
 * A worker on EventStoreDB (the embedded server, through the real client): it runs a user's
 * workflows and, on SIGTERM, drains and exits 0; so does the next worker, which starts from the
 * indexes the first one wrote (reads it leaves before their end). Closing the client once the
 * runtime has stopped must settle: a close left pending would end the process with Node's
 * "unsettled top-level await" code 13, not 0.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbedded, type Embedded } from '../esdb/support.js';
import { cadenza, ended, ledger, order, ordersConfig, startWorker, stopWorker, type RunningWorker } from './support.js';

const dir = mkdtempSync(join(tmpdir(), 'cadenza-esdb-worker-'));
const ledgerFile = join(dir, 'ledger.jsonl');
let embedded: Embedded | undefined;
const workers: RunningWorker[] = [];

beforeAll(async () => {
  embedded = await startEmbedded();
});

afterAll(async () => {
  for (const worker of workers) await stopWorker(worker);
  await embedded?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('a worker on EventStoreDB', () => {
  it('runs the workflows, then drains on SIGTERM and exits 0, twice in a row (its client closes)', async () => {
    const store = embedded!.connectionString;
    const env = { ORDERS_LEDGER: ledgerFile };
    for (const round of [1, 2]) {
      const worker = await startWorker(['--store', store, '--json', 'worker', '--config', ordersConfig], env);
      workers.push(worker);
      const ids = [`esdb-order-${round}-a`, `esdb-order-${round}-b`];
      for (const id of ids) {
        const started = await cadenza(['--store', store, 'run', 'order-fulfilment', '--config', ordersConfig, '--no-wait', '--workflow-id', id, '--input', order(id)], env);
        expect(started.code, started.stderr).toBe(0);
      }
      for (const id of ids) expect(await ended(store, id)).toBe('WorkflowCompleted');
      expect(ledger(ledgerFile).filter((line) => line.kind === 'effect' && line.pid === worker.child.pid).length).toBeGreaterThan(0);

      worker.child.kill('SIGTERM');
      const stderr = worker.stderr().split('\n').filter((line) => line !== '' && !line.startsWith('{')).join('\n');
      expect({ round, code: await worker.exited, stderr }).toEqual({ round, code: 0, stderr: '' });
      expect(JSON.parse(worker.stdout()) as { drained: boolean }).toMatchObject({ drained: true });
    }
  }, 180_000);
});
