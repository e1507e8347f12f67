/**
 * Many kills: trading workflows on one SQLite file while the runtime process is SIGKILLed again and
 * again and restarted each time. Every workflow ends; at the simulated broker (shared by every
 * process, honouring the idempotency key) each workflow placed at most one order and one risk
 * reservation, and every order and reservation is either part of a completed trade or was reversed
 * and released: none is left open. Kills cost no attempts, so most trades still complete.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/open.js';
import { historyOf } from './support.js';
import { waitFor } from '../support/wait-for.js';
import { callLines, expectLedgerSettled, ledgerEffects, startWorker, terminal } from './process-support.js';

let dir = '';
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = '';
});

describe('a runtime killed again and again', () => {
  it('ends every workflow with every executed order completed or compensated, none placed twice', async () => {
    dir = mkdtempSync(join(tmpdir(), 'cadenza-kills-'));
    const storeUri = `sqlite:${join(dir, 'store.db')}`;
    const calls = join(dir, 'calls.log');
    writeFileSync(calls, '');
    const count = 200;
    const kills = 10;

    for (let kill = 0; kill < kills; kill++) {
      const worker = startWorker(storeUri, kill === 0 ? 'start' : 'resume', 'k', String(count), calls, '0.1');
      // Let it work for a while (a different number of agent calls each round), then kill it.
      const target = callLines(calls).length + 80 + ((kill * 37) % 60);
      const ended = await Promise.race([waitFor(() => callLines(calls).length >= target, { what: `round ${kill} to make ${target} agent calls`, timeoutMs: 60_000 }).then(() => false), worker.exited.then(() => true)]);
      if (ended) break; // it finished everything before this kill
      worker.child.kill('SIGKILL');
      await worker.exited;
    }
    const last = startWorker(storeUri, 'resume', 'k', String(count), calls, '0.1');
    expect(await last.exited, last.output()).toBe(0);

    const store = await openStore(storeUri);
    const endings = new Map<string, string>();
    let resumed = 0;
    for (let i = 0; i < count; i++) {
      const events = await historyOf(store, `k-${i}`);
      const end = events[events.length - 1]!;
      expect(terminal.has(end.type), `k-${i} ended with ${end.type}`).toBe(true);
      endings.set(`k-${i}`, end.type);
      resumed += events.filter((e) => e.type === 'StepResumed' || e.type === 'CompensationResumed').length;
    }
    await store.close();
    expect(resumed, 'no call was in flight at any kill: the test killed nothing that mattered').toBeGreaterThan(0);
    expectLedgerSettled(ledgerEffects(calls), endings);
    // Simulated rejections (compliance 10%, post-trade 10%) and transient failures end some trades
    // compensated; the kills themselves must not: before resume, every kill cost each in-flight step an attempt.
    const completed = [...endings.values()].filter((type) => type === 'WorkflowCompleted').length;
    expect(completed).toBeGreaterThan(count * 0.6);
  }, 300_000);
});
