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
import { historyOf, dataOf } from './support.js';
import { callLines, expectCrashRecovery, startWorker, terminal } from './process-support.js';

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

  it('two live runtimes on one store dispatch every step attempt exactly once', async () => {
    dir = mkdtempSync(join(tmpdir(), 'cadenza-two-'));
    const storeUri = `sqlite:${join(dir, 'store.db')}?durability=normal`;
    const calls = join(dir, 'calls.log');
    writeFileSync(calls, '');

    const a = startWorker(storeUri, 'start', 'a', '100', calls, '0.2');
    const b = startWorker(storeUri, 'start', 'b', '100', calls, '0.2');
    const [codeA, codeB] = await Promise.all([a.exited, b.exited]);
    expect({ codeA, codeB, a: codeA === 0 ? '' : a.output(), b: codeB === 0 ? '' : b.output() }).toMatchObject({ codeA: 0, codeB: 0 });

    const lines = callLines(calls);
    const perKey = new Map<string, number>();
    for (const { key } of lines) perKey.set(key, (perKey.get(key) ?? 0) + 1);
    const duplicates = [...perKey].filter(([, n]) => n > 1);
    expect(duplicates).toEqual([]);
    // Both processes did work, and retries happened (failure rate 0.2), so the check had something to check.
    expect(new Set(lines.map((l) => l.pid)).size).toBe(2);
    expect([...perKey.keys()].some((key) => /:[2-9]$/.test(key))).toBe(true);

    // Every dispatched attempt is recorded in the store exactly once as scheduled.
    const store = await openStore(storeUri);
    const scheduled = new Map<string, number>();
    for (const prefix of ['a', 'b']) {
      for (let i = 0; i < 100; i++) {
        const events = await historyOf(store, `${prefix}-${i}`);
        expect(terminal.has(events[events.length - 1]!.type)).toBe(true);
        for (const e of events) {
          if (e.type === 'StepScheduled' || e.type === 'CompensationScheduled') {
            const key = String(dataOf(e).idempotencyKey);
            scheduled.set(key, (scheduled.get(key) ?? 0) + 1);
          }
        }
      }
    }
    await store.close();
    expect([...scheduled.values()].every((n) => n === 1)).toBe(true);
    for (const key of perKey.keys()) expect(scheduled.has(key)).toBe(true);
  }, 180_000);
});
