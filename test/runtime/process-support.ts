/** Runtime worker processes for the crash and multi-process tests (fixtures/runtime-worker.ts). */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, expect } from 'vitest';
import { StreamNotFoundError } from '../../src/store/errors.js';
import { openStore } from '../../src/store/open.js';
import type { EventStore } from '../../src/store/port.js';
import { waitFor } from '../support/wait-for.js';
import { dataOf, historyOf } from './support.js';
import type { LedgerEffect } from '../../sagas/trading/agents.js';
import { tradingPipeline } from '../../sagas/trading/definition.js';
import { appendStart } from '../../src/saga/stream/index.js';
import type { WorkflowDefinition } from '../../src/workflow/index.js';

const worker = fileURLToPath(new URL('./fixtures/runtime-worker.ts', import.meta.url));
const root = fileURLToPath(new URL('../..', import.meta.url));
export const terminal = new Set(['WorkflowCompleted', 'WorkflowCompensated', 'WorkflowFailed', 'WorkflowCompensationFailed', 'WorkflowCancelled', 'WorkflowResolved']);

export function startWorker(...args: string[]): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
  return startFixture(worker, ...args);
}

/** Fixtures still running when their test file ends (a failed test left them): killed, so none outlives it. */
const running = new Set<ChildProcess>();
afterAll(() => {
  for (const child of running) child.kill('SIGKILL');
});

/** Another fixture of fixtures/ (by file name) in its own process. */
export function startFixture(file: string, ...args: string[]): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
  const path = file.includes('/') ? file : fileURLToPath(new URL(`./fixtures/${file}`, import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', path, ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout?.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (err += chunk.toString()));
  running.add(child);
  const exited = new Promise<number | null>((resolve) =>
    child.on('exit', (code) => {
      running.delete(child);
      resolve(code);
    }),
  );
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

/** What a `serve` worker prints (fixtures/runtime-worker.ts): its runtime's counters. */
export interface WorkerStats {
  readonly decodedEvents: number;
  readonly decodedOwnEvents: number;
  readonly appendedEvents: number;
  readonly partitions: number;
  readonly inFlight: number;
  readonly cachedWorkflows: number;
}

/** The last `stats` line a worker printed. */
export function lastStats(output: string): WorkerStats | undefined {
  const lines = output.split('\n').filter((line) => line.startsWith('stats '));
  const last = lines[lines.length - 1];
  return last === undefined ? undefined : (JSON.parse(last.slice('stats '.length)) as WorkerStats);
}

/** The trading saga with room for a loaded machine: calls in flight at a kill are resumed, not waited out. */
const ownershipSaga: WorkflowDefinition = { ...tradingPipeline, steps: tradingPipeline.steps.map((step) => ({ ...step, timeoutMs: 15_000, retry: { ...step.retry, initialDelayMs: 50, maxAttempts: 5 } })) };

/**
 * Ownership across runtime processes (docs/scaling.md): three `serve` workers on `storeUri` lease
 * the partitions between them; the test appends `count` trading starts (no runtime: each waits for
 * its owner), at most 60 unfinished at a time; at 40% of the starts one worker is SIGKILLed, at 50%
 * another is drained, and the survivor takes over. Asserted: every workflow ends; at the simulated
 * broker every order and reservation took effect once (expectLedgerSettled); an attempt was
 * delivered twice only where a runtime resumed it, and only if its first delivery was the killed
 * process's; no step whose success was stored by the kill was called again; and while all three ran,
 * each handled (appended itself, or decoded from the store) about a third of the workflow events,
 * never all of them. Returns the shares, for the report.
 */
export async function expectOwnershipAcrossProcesses(storeUri: string, dir: string, count: number): Promise<number[]> {
  const calls = join(dir, 'calls.log');
  writeFileSync(calls, '');
  const workers = ['a', 'b', 'c'].map((prefix) => ({ prefix, ...startWorker(storeUri, 'serve', prefix, '0', calls, '0.1') }));
  const [killed, drained] = workers as [typeof workers[number], typeof workers[number]];
  const store = await openStore(storeUri);
  try {
    // Balanced before any work: every partition leased, each worker holding some.
    const partitionsOf = (worker: typeof killed) => lastStats(worker.output())?.partitions ?? 0;
    await waitFor(() => workers.every((worker) => partitionsOf(worker) > 0) && workers.reduce((sum, worker) => sum + partitionsOf(worker), 0) === 16, {
      what: 'the three workers to lease all 16 partitions between them',
      timeoutMs: 60_000,
    });
    const before = workers.map((worker) => lastStats(worker.output())!);
    const ids = Array.from({ length: count }, (_, i) => `own-${i}`);
    const endings = new Map<string, string>();
    const unfinished = new Set<string>();
    const endedNow = async (): Promise<void> => {
      for (const id of [...unfinished]) {
        for await (const last of store.readStream(`workflow-${id}`, { direction: 'backwards', fromRevision: 'end', maxCount: 1 })) {
          if (!terminal.has(last.type)) continue;
          endings.set(id, last.type);
          unfinished.delete(id);
        }
      }
    };
    const input = { symbol: 'ACME', side: 'buy', quantity: 10, account: 'acct-1' };
    let startEvents = 0;
    let shares: number[] = [];
    let total = 0;
    let callsAtKill = 0;
    const succeededAtKill = new Set<string>();
    let drainedExit: Promise<number | null> | undefined;
    const startDeadline = Date.now() + 240_000;
    for (let started = 0; started < count; ) {
      if (Date.now() > startDeadline) throw new Error(`gave up starting: ${started} of ${count} started after 240 s, ${unfinished.size} unfinished`);
      if (started >= count * 0.4 && killed.child.exitCode === null && killed.child.signalCode === null) {
        // The share of the workflow events each runtime handled while all three ran.
        const during = workers.map((worker) => lastStats(worker.output())!);
        const handled = during.map((stats, i) => stats.decodedEvents - stats.decodedOwnEvents - (before[i]!.decodedEvents - before[i]!.decodedOwnEvents) + stats.appendedEvents - before[i]!.appendedEvents);
        total = startEvents + during.reduce((sum, stats, i) => sum + stats.appendedEvents - before[i]!.appendedEvents, 0);
        shares = handled.map((events) => events / total);
        killed.child.kill('SIGKILL');
        await killed.exited;
        for (const id of ids.slice(0, started)) {
          for (const e of await historyOf(store, id)) if (e.type === 'StepSucceeded') succeededAtKill.add(`${id}:${String(dataOf(e).stepId)}`);
        }
        // After the snapshot: a call logged later is a call made after its step's success was read as stored.
        callsAtKill = callLines(calls).length;
      }
      if (started >= count * 0.5 && drainedExit === undefined) {
        drained.child.kill('SIGTERM');
        drainedExit = drained.exited;
      }
      await endedNow();
      // A twentieth at a time, so the kill and the drain fall between starts.
      for (let batch = Math.max(1, Math.floor(count / 20)); batch > 0 && unfinished.size < 60 && started < count; batch--, started++) {
        startEvents += (await appendStart(store, ids[started]!, ownershipSaga, input)).length;
        unfinished.add(ids[started]!);
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const drainedCode = await Promise.race([drainedExit, new Promise<string>((resolve) => setTimeout(() => resolve('still running 60 s after SIGTERM'), 60_000).unref())]);
    expect(drainedCode, drained.output().split('\n').filter((line) => !line.startsWith('stats')).join('\n').slice(-2000)).toBe(0);
    expect(drained.output()).toContain('drained');

    // The survivor finishes everything: the drained worker's partitions at once, the killed one's when its lease runs out.
    await waitFor(async () => {
      await endedNow();
      return unfinished.size === 0;
    }, { what: `all ${count} workflows to end`, timeoutMs: 240_000, intervalMs: 500 });

    const resumed = new Set<string>();
    for (const id of ids) {
      for (const e of await historyOf(store, id)) {
        if (e.type !== 'StepResumed' && e.type !== 'CompensationResumed') continue;
        const data = dataOf(e);
        resumed.add(`${id}:${String(data.stepId)}${e.type === 'CompensationResumed' ? ':compensate' : ''}#${String(data.attempt)}`);
      }
    }
    const lines = callLines(calls);
    const deliveries = new Map<string, CallLine[]>();
    for (const line of lines) deliveries.set(`${line.key}#${line.attempt}`, [...(deliveries.get(`${line.key}#${line.attempt}`) ?? []), line]);
    const killedPid = String(killed.child.pid);
    const redelivered = [...deliveries].filter(([, sent]) => sent.length > 1);
    expect(redelivered.filter(([attemptKey]) => !resumed.has(attemptKey)).map(([attemptKey]) => attemptKey), 'delivered twice without a resume').toEqual([]);
    expect(redelivered.filter(([, sent]) => sent[0]!.pid !== killedPid).map(([attemptKey, sent]) => `${attemptKey} first by ${sent[0]!.pid}`), 're-sent though not in flight at the killed process').toEqual([]);
    const rerun = lines.slice(callsAtKill).filter((line) => !line.key.endsWith(':compensate') && succeededAtKill.has(line.key));
    expect(rerun, 'steps called again after their success was stored').toEqual([]);
    expectLedgerSettled(ledgerEffects(calls), endings);
    // Each runtime handled about a third while all three ran (6/6/4 partitions); one that decoded
    // everything would be at 1.
    process.stdout.write(`ownership across processes on ${storeUri.split(':')[0]}: shares ${shares.map((share) => share.toFixed(3)).join(' ')} of ${total} events\n`);
    for (const share of shares) {
      expect(share).toBeGreaterThan(0.1);
      expect(share).toBeLessThan(0.6);
    }
    return shares;
  } finally {
    await store.close();
    for (const worker of workers) if (worker.child.exitCode === null && worker.child.signalCode === null) worker.child.kill('SIGKILL');
    await Promise.all(workers.map((worker) => worker.exited));
  }
}
