/** Runtime worker processes for the crash and multi-process tests (fixtures/runtime-worker.ts). */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import { openStore } from '../../src/store/open.js';
import type { EventStore } from '../../src/store/port.js';
import { dataOf, historyOf } from './support.js';

const worker = fileURLToPath(new URL('./fixtures/runtime-worker.ts', import.meta.url));
const root = fileURLToPath(new URL('../..', import.meta.url));
export const terminal = new Set(['WorkflowCompleted', 'WorkflowCompensated', 'WorkflowFailed', 'WorkflowCompensationFailed', 'WorkflowCancelled']);

export function startWorker(...args: string[]): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
  const child = spawn(process.execPath, ['--import', 'tsx', worker, ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout?.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output: () => out + err, exited };
}

export function callLines(file: string): { pid: string; key: string }[] {
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

export async function waitFor(condition: () => boolean, what: string, limitMs = 60_000): Promise<void> {
  const until = Date.now() + limitMs;
  while (!condition()) {
    if (Date.now() > until) throw new Error(`gave up waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}


/**
 * Crash and restart: a runtime process running trading workflows on `storeUri` is killed with
 * SIGKILL mid-flight; a new process finishes every workflow the dead one started, and no step whose
 * success was stored before the kill is executed again. `dir` holds the agents' call log.
 */
export async function expectCrashRecovery(storeUri: string, dir: string): Promise<void> {
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
}
