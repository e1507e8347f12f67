/**
 * The runtime across processes on one SQLite file: a SIGKILLed runtime's workflows are finished by
 * a new process without re-running completed steps, and two live runtimes dispatch every attempt
 * exactly once.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/open.js';
import type { EventStore } from '../../src/store/port.js';
import { historyOf, dataOf } from './support.js';

const worker = fileURLToPath(new URL('./fixtures/runtime-worker.ts', import.meta.url));
const root = fileURLToPath(new URL('../..', import.meta.url));
const terminal = new Set(['WorkflowCompleted', 'WorkflowCompensated', 'WorkflowFailed', 'WorkflowCompensationFailed', 'WorkflowCancelled']);

function startWorker(...args: string[]): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
  const child = spawn(process.execPath, ['--import', 'tsx', worker, ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout?.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output: () => out + err, exited };
}

function callLines(file: string): { pid: string; key: string }[] {
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  return text.split('\n').filter(Boolean).map((line) => {
    const [pid = '', key = ''] = line.split(' ');
    return { pid, key };
  });
}

async function waitFor(condition: () => boolean, what: string, limitMs = 60_000): Promise<void> {
  const until = Date.now() + limitMs;
  while (!condition()) {
    if (Date.now() > until) throw new Error(`gave up waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

let dir = '';
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = '';
});

describe('runtime processes on one store', () => {
  it('finishes a killed process\'s workflows in a new process without re-running completed steps', async () => {
    dir = mkdtempSync(join(tmpdir(), 'cadenza-crash-'));
    const storeUri = `sqlite:${join(dir, 'store.db')}`;
    const calls = join(dir, 'calls.log');
    writeFileSync(calls, '');
    const count = 30;

    const first = startWorker(storeUri, 'start', 'crash', String(count), calls, '0.1');
    // Kill it mid-flight: some workflows done, many steps running.
    await waitFor(() => callLines(calls).length >= 60, 'the first process to make 60 agent calls');
    first.child.kill('SIGKILL');
    await first.exited;
    expect(first.output()).not.toContain('done');

    // What was durably completed before the kill.
    let store: EventStore = await openStore(storeUri);
    const succeededBefore = new Set<string>();
    const started: string[] = [];
    for (let i = 0; i < count; i++) {
      const id = `crash-${i}`;
      const events = await historyOf(store, id).catch(() => []);
      if (events.length > 0) started.push(id);
      for (const e of events) if (e.type === 'StepSucceeded') succeededBefore.add(`${id}:${String(dataOf(e).stepId)}`);
    }
    await store.close();
    expect(started.length).toBeGreaterThan(0);
    expect(succeededBefore.size).toBeGreaterThan(0);

    // A new process picks up every workflow the dead one started and finishes it.
    const second = startWorker(storeUri, 'resume', 'crash', String(started.length), calls, '0.1');
    expect(await second.exited).toBe(0);
    expect(second.output()).toContain('done');

    store = await openStore(storeUri);
    for (const id of started) {
      const events = await historyOf(store, id);
      expect(terminal.has(events[events.length - 1]!.type)).toBe(true);
    }
    await store.close();
    const secondPid = String(second.child.pid);
    const rerun = callLines(calls)
      .filter((line) => line.pid === secondPid && !line.key.includes(':compensate:'))
      .filter((line) => succeededBefore.has(line.key.split(':').slice(0, 2).join(':')));
    expect(rerun).toEqual([]);
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
