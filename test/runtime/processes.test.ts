/**
 * The runtime across processes on one SQLite file: a SIGKILLed runtime's workflows are finished by
 * a new process without re-running completed steps, and two live runtimes dispatch every attempt
 * exactly once.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/open.js';
import { fromRecorded } from '../../src/saga/stream/index.js';
import { historyOf } from './support.js';
import { callLines, expectCrashRecovery, expectLedgerSettled, ledgerEffects, startWorker, terminal } from './process-support.js';

let dir = '';
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = '';
});

describe('runtime processes on one store', () => {
  it('finishes a killed process\'s workflows in a new process without re-running completed steps', async () => {
    dir = mkdtempSync(join(tmpdir(), 'cadenza-crash-'));
    await expectCrashRecovery(`sqlite:${join(dir, 'store.db')}`, dir);
  }, 120_000);

  it('two live runtimes on one store send every attempt once (re-sends only where a start-up resumed it), and place each order once', async () => {
    dir = mkdtempSync(join(tmpdir(), 'cadenza-two-'));
    const storeUri = `sqlite:${join(dir, 'store.db')}?durability=normal`;
    const calls = join(dir, 'calls.log');
    writeFileSync(calls, '');

    const a = startWorker(storeUri, 'start', 'a', '100', calls, '0.2');
    const b = startWorker(storeUri, 'start', 'b', '100', calls, '0.2');
    const [codeA, codeB] = await Promise.all([a.exited, b.exited]);
    expect({ codeA, codeB, a: codeA === 0 ? '' : a.output(), b: codeB === 0 ? '' : b.output() }).toMatchObject({ codeA: 0, codeB: 0 });

    const lines = callLines(calls);
    const perAttempt = new Map<string, number>();
    for (const { key, attempt } of lines) perAttempt.set(`${key}#${attempt}`, (perAttempt.get(`${key}#${attempt}`) ?? 0) + 1);
    // Both processes did work, and retries happened (failure rate 0.2) under the operation's one key.
    expect(new Set(lines.map((l) => l.pid)).size).toBe(2);
    expect(lines.some((l) => l.attempt > 1)).toBe(true);

    // Every attempt is recorded in the store exactly once as scheduled; a second delivery of it only
    // where a runtime resumed it on start-up.
    const store = await openStore(storeUri);
    const scheduled = new Map<string, number>();
    const resumed = new Set<string>();
    const endings = new Map<string, string>();
    for (const prefix of ['a', 'b']) {
      for (let i = 0; i < 100; i++) {
        const events = await historyOf(store, `${prefix}-${i}`);
        const last = events[events.length - 1]!;
        expect(terminal.has(last.type)).toBe(true);
        endings.set(`${prefix}-${i}`, last.type);
        for (const e of events) {
          if (!/^(Step|Compensation)(Scheduled|Resumed)$/.test(e.type)) continue;
          // Decoded: a call's default key is not stored, it follows from the data.
          const data = fromRecorded(e).data as { idempotencyKey?: string; attempt?: number };
          const attemptKey = `${String(data.idempotencyKey)}#${String(data.attempt)}`;
          if (e.type === 'StepScheduled' || e.type === 'CompensationScheduled') scheduled.set(attemptKey, (scheduled.get(attemptKey) ?? 0) + 1);
          if (e.type === 'StepResumed' || e.type === 'CompensationResumed') resumed.add(attemptKey);
        }
      }
    }
    await store.close();
    expect([...scheduled.values()].every((n) => n === 1)).toBe(true);
    const redelivered = [...perAttempt].filter(([attemptKey, n]) => n > 1 && !resumed.has(attemptKey));
    expect(redelivered).toEqual([]);
    for (const attemptKey of perAttempt.keys()) expect(scheduled.has(attemptKey)).toBe(true);
    expectLedgerSettled(ledgerEffects(calls), endings);
  }, 180_000);
});
