/**
 * The worker tests' tools: the `cadenza` command as real child processes (a worker kept running, or
 * a command run to its end), the orders saga's ledger file, and the store read back in-process.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll } from 'vitest';
import { StreamNotFoundError } from '../../src/store/errors.js';
import { openStore } from '../../src/store/open.js';
import type { RecordedEvent } from '../../src/store/port.js';
import { terminal } from '../runtime/process-support.js';
import { waitFor as waitUntil } from '../support/wait-for.js';

/** Waits for `condition` (60 s by default: worker processes start slowly on a loaded machine), naming `what` if it never holds. */
export function waitFor(condition: () => boolean, what: string, timeoutMs = 60_000): Promise<void> {
  return waitUntil(condition, { what, timeoutMs });
}

export const bin = fileURLToPath(new URL('../../src/cli/bin.js', import.meta.url));
export const root = fileURLToPath(new URL('../..', import.meta.url));
export const tradingConfig = fileURLToPath(new URL('../../sagas/trading/cadenza.config.ts', import.meta.url));

/**
 * A scratch project as a user has it: the orders saga's files (sagas/orders) in its folder, and
 * `cadenza` in its node_modules. That `cadenza` is this checkout's public surface (src/index.ts, run
 * through tsx, the loader the checkout's command runs under), so a config importing 'cadenza' shares
 * its modules with the command; the published package is tested by the package's consumer test.
 */
export function userProject(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'my-orders', private: true, type: 'module' }));
  const shim = join(dir, 'node_modules', 'cadenza');
  mkdirSync(shim, { recursive: true });
  writeFileSync(join(shim, 'package.json'), JSON.stringify({ name: 'cadenza', type: 'module', exports: { '.': './index.ts' } }));
  writeFileSync(join(shim, 'index.ts'), `export * from ${JSON.stringify(join(root, 'src', 'index.ts'))};\n`);
  symlinkSync(join(root, 'node_modules', 'tsx'), join(dir, 'node_modules', 'tsx'), 'dir');
  cpSync(join(root, 'sagas', 'orders'), dir, { recursive: true });
  return dir;
}

/** The orders saga in a scratch project of this test file (removed after it). */
const ordersProject = userProject('cadenza-orders-');
afterAll(() => rmSync(ordersProject, { recursive: true, force: true }));
export const ordersConfig = join(ordersProject, 'cadenza.config.mjs');
export const ordersDefinition = join(ordersProject, 'order-fulfilment.json');

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** One `cadenza` command run to its end. */
export function cadenza(args: readonly string[], env: Record<string, string> = {}, cwd = root): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, [bin, ...args], { cwd, env: { ...process.env, CADENZA_STORE: '', ...env } }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
    });
  });
}

export interface RunningWorker {
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;
  stdout(): string;
  stderr(): string;
  /** Its pino lines (JSON on stderr). */
  logs(): { msg?: string; [key: string]: unknown }[];
}

/** `cadenza worker`, resolved once it logged "worker started". */
export async function startWorker(args: readonly string[], env: Record<string, string> = {}): Promise<RunningWorker> {
  const child = spawn(process.execPath, [bin, ...args], { cwd: root, env: { ...process.env, CADENZA_STORE: '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout?.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  let gone = false;
  void exited.then(() => (gone = true));
  const worker: RunningWorker = {
    child,
    exited,
    stdout: () => out,
    stderr: () => err,
    logs: () => err.split('\n').filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as { msg?: string }),
  };
  await waitFor(() => gone || worker.logs().some((line) => line.msg === 'worker started'), `worker ${args.join(' ')} to start`);
  if (gone) throw new Error(`worker exited at start-up: ${err}`);
  return worker;
}

/** Stops a worker the test started, whatever state the test left it in. */
export async function stopWorker(worker: RunningWorker | undefined): Promise<void> {
  if (!worker || worker.child.exitCode !== null) return;
  worker.child.kill('SIGKILL');
  await worker.exited;
}

export interface LedgerLine {
  readonly pid: number;
  readonly kind: 'call' | 'effect';
  readonly action: string;
  readonly workflowId: string;
  readonly key?: string;
  readonly stepId?: string;
  readonly attempt?: number;
  readonly [field: string]: unknown;
}

/** The orders agents' ledger: a line per call as it arrives and per effect once done. */
export function ledger(file: string): LedgerLine[] {
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  return text.split('\n').filter(Boolean).map((line) => JSON.parse(line) as LedgerLine);
}

export function effects(file: string, workflowId: string): string[] {
  return ledger(file).filter((line) => line.kind === 'effect' && line.workflowId === workflowId).map((line) => line.action).sort();
}

/** A workflow's stored events, read from the store file in this process. */
export async function history(storeUri: string, workflowId: string): Promise<RecordedEvent[]> {
  const store = await openStore(storeUri);
  try {
    const events: RecordedEvent[] = [];
    for await (const event of store.readStream(`workflow-${workflowId}`)) events.push(event);
    return events;
  } catch (error) {
    if (error instanceof StreamNotFoundError) return [];
    throw error;
  } finally {
    await store.close();
  }
}

/** Resolves with the workflow's final event type once it has ended, or fails naming it at the deadline. */
export function ended(storeUri: string, workflowId: string, limitMs = 60_000): Promise<string> {
  return until(async () => {
    const last = (await history(storeUri, workflowId)).at(-1)?.type ?? '';
    return terminal.has(last) ? last : undefined;
  }, `workflow ${workflowId} to end`, limitMs);
}

/** Resolves with the first defined answer of `check`, asked again and again, or fails naming `what` at the deadline. */
export async function until<T>(check: () => Promise<T | undefined>, what: string | (() => string), limitMs = 30_000): Promise<T> {
  const deadline = Date.now() + limitMs;
  for (;;) {
    const answer = await check();
    if (answer !== undefined) return answer;
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${typeof what === 'string' ? what : what()}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** Input of one order; `country` "AQ" is one the simulated carrier never delivers to. */
export function order(orderId: string, country = 'FR'): string {
  return JSON.stringify({ orderId, customer: 'c-1', amount: 42, items: [{ sku: 'BOOK-1', quantity: 1 }], address: { country } });
}
