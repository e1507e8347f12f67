/** Runtime worker processes for the crash and multi-process tests (fixtures/runtime-worker.ts). */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import { StreamNotFoundError } from '../../src/store/errors.js';
import { openStore } from '../../src/store/open.js';
import type { EventStore } from '../../src/store/port.js';
import { waitFor } from '../support/wait-for.js';
import { dataOf, historyOf } from './support.js';
import type { LedgerEffect } from '../../sagas/trading/agents.js';

const worker = fileURLToPath(new URL('./fixtures/runtime-worker.ts', import.meta.url));
const root = fileURLToPath(new URL('../..', import.meta.url));
export const terminal = new Set(['WorkflowCompleted', 'WorkflowCompensated', 'WorkflowFailed', 'WorkflowCompensationFailed', 'WorkflowCancelled', 'WorkflowResolved']);

export function startWorker(...args: string[]): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
  return startFixture(worker, ...args);
}

/** Another fixture of fixtures/ (by file name) in its own process. */
export function startFixture(file: string, ...args: string[]): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
  const path = file.includes('/') ? file : fileURLToPath(new URL(`./fixtures/${file}`, import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', path, ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout?.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output: () => out + err, exited };
}

export interface CallLine {
  readonly pid: string;
  readonly key: string;
  readonly attempt: number;
}

export function callLines(file: string): CallLine[] {
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  return text.split('\n').filter(Boolean).map((line) => {
    const [pid = '', key = '', attempt = '0'] = line.split(' ');
    return { pid, key, attempt: Number(attempt) };
  });
}

/** What the simulated broker and risk desk did, across every process (the fixture's journal). */
export function ledgerEffects(callsFile: string): LedgerEffect[] {
  const dir = `${callsFile}.effects`;
  if (!existsSync(dir)) return [];
  return readdirSync(dir).filter((name) => !name.endsWith('.tmp')).map((name) => JSON.parse(readFileSync(join(dir, name), 'utf8')) as LedgerEffect);
}

/**
 * Every order and risk reservation took effect at most once per workflow, and none is left open: a
 * completed trade holds exactly one live order and reservation, any other ending reversed and
 * released everything its workflow placed (also what a step placed just before it failed or timed out).
 */
export function expectLedgerSettled(effects: readonly LedgerEffect[], endings: ReadonlyMap<string, string>): void {
  const workflowOf = (key: string) => key.split(':')[0] ?? key;
  const ordersPerWorkflow = new Map<string, string[]>();
  const reservationsPerWorkflow = new Map<string, string[]>();
  const reversed = new Set<string>();
  const released = new Set<string>();
  for (const effect of effects) {
    if (effect.kind === 'order') ordersPerWorkflow.set(workflowOf(effect.key), [...(ordersPerWorkflow.get(workflowOf(effect.key)) ?? []), effect.orderId]);
    if (effect.kind === 'reservation') reservationsPerWorkflow.set(workflowOf(effect.key), [...(reservationsPerWorkflow.get(workflowOf(effect.key)) ?? []), effect.reservationId]);
    if (effect.kind === 'reversal') reversed.add(effect.orderId);
    if (effect.kind === 'release') released.add(effect.reservationId);
  }
  expect(ordersPerWorkflow.size, 'no order was placed at all: the check has nothing to check').toBeGreaterThan(0);
  const problems: string[] = [];
  for (const [workflowId, status] of endings) {
    const orders = ordersPerWorkflow.get(workflowId) ?? [];
    const reservations = reservationsPerWorkflow.get(workflowId) ?? [];
    if (orders.length > 1) problems.push(`${workflowId}: ${orders.length} orders placed (${orders.join(', ')})`);
    if (reservations.length > 1) problems.push(`${workflowId}: ${reservations.length} risk reservations`);
    const open = orders.filter((id) => !reversed.has(id));
    const held = reservations.filter((id) => !released.has(id));
    if (status === 'WorkflowCompleted') {
      if (orders.length !== 1 || open.length !== 1) problems.push(`${workflowId}: completed with ${orders.length} orders, ${open.length} open`);
    } else if (open.length > 0 || held.length > 0) {
      problems.push(`${workflowId}: ended ${status} with open orders [${open.join(', ')}] and held reservations [${held.join(', ')}]`);
    }
  }
  expect(problems).toEqual([]);
}


/**
 * Crash and restart: a runtime process running trading workflows on `storeUri` is killed with
 * SIGKILL mid-flight; a new process finishes every workflow the dead one started. No step whose
 * success was stored before the kill is executed again; every call in flight at the kill is re-sent
 * under its key as the same attempt (StepResumed), not failed at its deadline; and at the simulated
 * broker every order took effect at most once and none is left open. `dir` holds the agents' call log.
 */
export async function expectCrashRecovery(storeUri: string, dir: string): Promise<void> {
    const calls = join(dir, 'calls.log');
    writeFileSync(calls, '');
    const count = 30;

    const first = startWorker(storeUri, 'start', 'crash', String(count), calls, '0.1');
    // Kill it mid-flight: some workflows done, many steps running.
    await waitFor(() => callLines(calls).length >= 60, { what: 'the first process to make 60 agent calls', timeoutMs: 60_000 });
    first.child.kill('SIGKILL');
    await first.exited;
    expect(first.output()).not.toContain('done');

    // What was durably completed, and what was in flight, before the kill.
    let store: EventStore = await openStore(storeUri);
    const succeededBefore = new Set<string>();
    const inFlightBefore = new Set<string>();
    const started: string[] = [];
    for (let i = 0; i < count; i++) {
      const id = `crash-${i}`;
      // Not found means not started; any other read error must fail the test, not drop the workflow.
      const events = await historyOf(store, id).catch((error: unknown) => {
        if (error instanceof StreamNotFoundError) return [];
        throw error;
      });
      if (events.length > 0) started.push(id);
      for (const e of events) {
        const key = `${id}:${String(dataOf(e).stepId)}:${String(dataOf(e).attempt)}`;
        if (e.type === 'StepSucceeded') succeededBefore.add(`${id}:${String(dataOf(e).stepId)}`);
        if (e.type === 'StepScheduled') inFlightBefore.add(key);
        if (e.type === 'StepSucceeded' || e.type === 'StepFailed' || e.type === 'StepTimedOut') inFlightBefore.delete(key);
      }
    }
    await store.close();
    expect(started.length).toBeGreaterThan(0);
    expect(succeededBefore.size).toBeGreaterThan(0);
    expect(inFlightBefore.size, 'no step was in flight at the kill: the check has nothing to check').toBeGreaterThan(0);

    // A new process picks up every workflow the dead one started and finishes it.
    const second = startWorker(storeUri, 'resume', 'crash', String(started.length), calls, '0.1');
    expect(await second.exited).toBe(0);
    expect(second.output()).toContain('done');

    store = await openStore(storeUri);
    const endings = new Map<string, string>();
    for (const id of started) {
      const events = await historyOf(store, id);
      const last = events[events.length - 1]!;
      expect(terminal.has(last.type)).toBe(true);
      endings.set(id, last.type);
      // Each attempt in flight at the kill was resumed, not timed out.
      for (const e of events) {
        const key = `${id}:${String(dataOf(e).stepId)}:${String(dataOf(e).attempt)}`;
        if (inFlightBefore.has(key) && (e.type === 'StepResumed' || e.type === 'StepTimedOut')) {
          expect(e.type, `${key} was in flight at the kill`).toBe('StepResumed');
          inFlightBefore.delete(key);
        }
      }
    }
    await store.close();
    expect([...inFlightBefore], 'attempts in flight at the kill that were never resumed').toEqual([]);
    const secondPid = String(second.child.pid);
    const rerun = callLines(calls)
      .filter((line) => line.pid === secondPid && !line.key.endsWith(':compensate'))
      .filter((line) => succeededBefore.has(line.key));
    expect(rerun).toEqual([]);
    expectLedgerSettled(ledgerEffects(calls), endings);
}
