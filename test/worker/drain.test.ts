/**
 * SIGTERM mid-flight: the worker takes no new call, lets the calls in flight finish and their
 * results be stored, and exits 0 within its drain deadline (its own report says so). A second worker
 * then finishes every workflow, and no step whose success was stored runs again (the agents write
 * every call they receive to the ledger, with its idempotency key and the process that took it).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cadenza, ended, history, ledger, order, ordersConfig, startWorker, stopWorker, waitFor, type RunningWorker } from './support.js';

const dir = mkdtempSync(join(tmpdir(), 'cadenza-drain-'));
const store = `sqlite:${join(dir, 'store.db')}`;
const ledgerFile = join(dir, 'ledger.jsonl');
const workers: RunningWorker[] = [];
const ids = ['drain-1', 'drain-2', 'drain-3', 'drain-4'];

afterAll(async () => {
  for (const worker of workers) await stopWorker(worker);
  rmSync(dir, { recursive: true, force: true });
});

describe('draining a worker', () => {
  it('finishes the calls in flight, leaves the rest to the next worker, and no stored success runs again', async () => {
    // Every call takes 1.5 s; the drain deadline (5 s) is long enough for those in flight.
    const slow = { ORDERS_LEDGER: ledgerFile, ORDERS_DELAY_MS: '1500', ORDERS_DRAIN_MS: '5000' };
    const first = await startWorker(['--store', store, '--json', 'worker', '--config', ordersConfig], slow);
    workers.push(first);
    for (const id of ids) {
      const started = await cadenza(['--store', store, 'run', 'order-fulfilment', '--config', ordersConfig, '--no-wait', '--workflow-id', id, '--input', order(id)], slow);
      expect(started.code, started.stderr).toBe(0);
    }
    const firstPid = first.child.pid!;
    await waitFor(() => ledger(ledgerFile).some((line) => line.kind === 'call' && line.pid === firstPid), 'the first worker to take a call');

    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);
    const report = JSON.parse(first.stdout()) as { drained: boolean; durationMs: number };
    expect(report).toMatchObject({ drained: true });
    // Every call the first worker took was finished, not cut off.
    const taken = ledger(ledgerFile).filter((line) => line.pid === firstPid);
    expect(taken.filter((line) => line.kind === 'effect')).toHaveLength(taken.filter((line) => line.kind === 'call').length);

    // What the store holds as done when the first worker is gone.
    const succeeded = new Map<string, number>();
    for (const id of ids) {
      for (const event of await history(store, id)) {
        const data = event.data as { stepId?: string; attempt?: number };
        if (event.type === 'StepSucceeded') succeeded.set(`${id}:${data.stepId}`, data.attempt ?? 0);
      }
    }
    expect(succeeded.size).toBeGreaterThan(0);

    const second = await startWorker(['--store', store, 'worker', '--config', ordersConfig], { ORDERS_LEDGER: ledgerFile });
    workers.push(second);
    for (const id of ids) expect(await ended(store, id)).toBe('WorkflowCompleted');

    // No step whose success was stored before was called again, by either worker.
    const calls = ledger(ledgerFile).filter((line) => line.kind === 'call' && !line.key?.includes(':compensate:'));
    for (const [step, attempt] of succeeded) {
      const [workflowId, stepId] = step.split(':');
      const again = calls.filter((line) => line.workflowId === workflowId && line.stepId === stepId && (line.attempt ?? 0) >= attempt);
      expect(again, `${step} after its stored success`).toHaveLength(1);
    }
    // Ctrl-C drains it the same way.
    second.child.kill('SIGINT');
    expect(await second.exited).toBe(0);
    expect(second.logs().map((line) => line.msg)).toEqual(expect.arrayContaining(['draining', 'worker stopped']));
  }, 180_000);
});
