/**
 * Scale benchmark: a runtime's start-up on an empty store and on a store of many completed trading
 * workflows (from the in-flight index, and, for comparison, scanning the whole workflow category as
 * runtimes did before the index), and the bytes a trading workflow takes on the embedded store's
 * disk. `startup.*` is the runtime's own start; `startup.worker.*` adds opening the store and the
 * agent registry. `registry.open.*` is the registry's open alone: from its directory of agents, and,
 * for comparison, the first open of a store without one (a scan of the log, as every open did
 * before the directory). Prints figures, then one JSON line:
 *   {"bench":"scale","results":{"startup.empty.ms":{"value":N,"unit":"ms"},...}}
 *
 *   npm run bench:scale            (BENCH_SCALE=0.1 for 10,000 completed workflows instead of 100,000)
 *
 * Then ownership across runtimes (`BENCH_ONLY=cluster` runs only this part): 1, 2 and 3 runtime
 * processes (test/runtime/fixtures/runtime-worker.ts, `serve`) on one store, the embedded SQLite file
 * and the embedded EventStoreDB server, drive trading workflows that this process appends as starts
 * (at most 100 unfinished at a time): total throughput, and each runtime's share of the workflow
 * events (appended by it, or decoded for it). Failover: of 3, one is SIGKILLed at 40% of the starts;
 * the time until a workflow of its partitions moves again, workflows never ended (lost), and
 * attempts delivered twice that were not in flight at the killed process (double dispatches).
 *
 * The completed workflows are not run through the engine (at a few hundred a second on this machine
 * that would take minutes): one trading workflow is run for real, and its stored events are written
 * again under new workflow ids, in bulk, through the store port. Same streams, same events, same
 * sizes as the engine writes.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { startEsdbServer } from '../../src/esdb-server/index.js';
import { partitionOf } from '../../src/saga/runtime/partitions.js';
import { appendStart } from '../../src/saga/stream/index.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { AgentRegistry } from '../../src/agents/index.js';
import { SagaRuntime } from '../../src/saga/runtime/index.js';
import { knownDefinition, saveDefinition, workflowStream } from '../../src/saga/stream/index.js';
import { openStore } from '../../src/store/open.js';
import type { EventData, EventStore, Json } from '../../src/store/port.js';
import { createTradingAgents } from '../../sagas/trading/agents.js';
import { tradingPipeline } from '../../sagas/trading/definition.js';

const scale = Number(process.env.BENCH_SCALE ?? 1);
const completedWorkflows = Math.max(1_000, Math.round(100_000 * scale));
const input = { symbol: 'ACME', side: 'buy', quantity: 10, account: 'acct-1' };
const dir = mkdtempSync(join(tmpdir(), 'cadenza-bench-scale-'));

async function withRuntime<T>(uri: string, use: (store: EventStore, registry: AgentRegistry) => Promise<T>): Promise<T> {
  const store = await openStore(uri);
  const registry = await AgentRegistry.open({ store });
  try {
    return await use(store, registry);
  } finally {
    await registry.close();
    await store.close();
  }
}

/** Runs `count` trading workflows through the engine (no failures, no latency); returns the ids. */
async function runTrades(store: EventStore, registry: AgentRegistry, count: number): Promise<string[]> {
  for (const agent of createTradingAgents({ failureRate: 0, rejectionRate: 0, postTradeFailureRate: 0, latencyMs: 0, replicas: 1 }).agents) await registry.register(agent);
  const runtime = await SagaRuntime.start({ store, registry });
  const ids = await Promise.all(Array.from({ length: count }, async () => (await runtime.startWorkflow(tradingPipeline, input)).workflowId));
  for (const id of ids) {
    const state = await runtime.waitForEnd(id);
    if (state.status !== 'completed') throw new Error(`trade ${id} ended ${state.status}`);
  }
  await runtime.stop();
  return ids;
}

/** Bytes per trading workflow on disk: the file's growth over `count` workflows (the WAL checkpointed by closing). */
async function bytesPerWorkflow(count: number): Promise<number> {
  const file = join(dir, 'bytes.db');
  await withRuntime(`sqlite:${file}`, (store, registry) => runTrades(store, registry, 10));
  const before = statSync(file).size;
  await withRuntime(`sqlite:${file}`, (store, registry) => runTrades(store, registry, count));
  return (statSync(file).size - before) / count;
}

/** One real trading workflow's stored events, to be written again under other ids. */
async function recordedTrade(): Promise<{ workflowId: string; events: EventData[] }> {
  return withRuntime('memory:', async (store, registry) => {
    const [workflowId] = await runTrades(store, registry, 1);
    const events: EventData[] = [];
    for await (const event of store.readStream(workflowStream(workflowId!))) events.push({ id: event.id, type: event.type, data: event.data, metadata: event.metadata });
    return { workflowId: workflowId!, events };
  });
}

async function writeCompleted(uri: string, count: number): Promise<number> {
  const { workflowId: original, events } = await recordedTrade();
  const texts = events.map((event) => ({ type: event.type, data: JSON.stringify(event.data), metadata: JSON.stringify(event.metadata) }));
  const store = await openStore(uri);
  const hash = (events[0]!.data as { definitionHash: string }).definitionHash;
  await saveDefinition(store, knownDefinition(hash)!, hash);
  const started = performance.now();
  const copy = (workflowId: string): EventData[] =>
    texts.map(({ type, data, metadata }) => ({ id: randomUUID(), type, data: JSON.parse(data.replaceAll(original, workflowId)) as Json, metadata: JSON.parse(metadata.replaceAll(original, workflowId)) as Record<string, Json> }));
  const inParallel = 256;
  for (let next = 0; next < count; next += inParallel) {
    const batch = Array.from({ length: Math.min(inParallel, count - next) }, (_, i) => `done-${next + i}`);
    await Promise.all(batch.map((workflowId) => store.append(workflowStream(workflowId), copy(workflowId), { expectedRevision: 'no_stream' })));
  }
  await store.close();
  return performance.now() - started;
}

interface Startup {
  /** The runtime's own start-up: SagaRuntime.start until live (caught up, timers armed). */
  readonly runtime: number;
  /** A worker's: open the store and the agent registry, then the runtime. */
  readonly worker: number;
}

/** Medians of `times` start-ups. */
async function startup(uri: string, times: number): Promise<Startup> {
  const runtimes: number[] = [];
  const workers: number[] = [];
  for (let i = 0; i < times; i++) {
    const opened = performance.now();
    const store = await openStore(uri);
    const registry = await AgentRegistry.open({ store });
    const started = performance.now();
    const runtime = await SagaRuntime.start({ store, registry });
    const live = performance.now();
    runtimes.push(live - started);
    workers.push(live - opened);
    await runtime.stop();
    await registry.close();
    await store.close();
  }
  const median = (samples: number[]) => samples.sort((a, b) => a - b)[Math.floor(samples.length / 2)]!;
  return { runtime: median(runtimes), worker: median(workers) };
}

interface RegistryOpen {
  /** The first open, with no directory of agents yet: the scan of the log every open did before. */
  readonly scan: number;
  /** Median of the opens from the directory, with the trading agents registered (after two warm-up opens). */
  readonly fromDirectory: number;
}

/**
 * `AgentRegistry.open` until caught up, on each store: once without a directory (registering the
 * trading agents after it), then from the directory, `times` rounds that interleave the stores so
 * that the machine's load falls on all of them alike.
 */
async function registryOpens(uris: readonly string[], times: number): Promise<RegistryOpen[]> {
  const tradingAgents = createTradingAgents({ failureRate: 0, rejectionRate: 0, postTradeFailureRate: 0, latencyMs: 0, replicas: 1 }).agents;
  const open = async (uri: string, registerAgents = false): Promise<number> => {
    const store = await openStore(uri);
    const started = performance.now();
    const registry = await AgentRegistry.open({ store });
    const opened = performance.now() - started;
    if (registerAgents) for (const agent of tradingAgents) await registry.register(agent);
    await registry.close();
    await store.close();
    return opened;
  };
  const scans: number[] = [];
  for (const uri of uris) scans.push(await open(uri, true));
  // Unmeasured: the first opens from a directory run cold (JIT).
  for (const uri of uris) for (let i = 0; i < 2; i++) await open(uri);
  const samples = uris.map((): number[] => []);
  for (let round = 0; round < times; round++) for (const [i, uri] of uris.entries()) samples[i]!.push(await open(uri));
  return uris.map((_, i) => ({ scan: scans[i]!, fromDirectory: samples[i]!.sort((a, b) => a - b)[Math.floor(times / 2)]! }));
}

// --- ownership across runtime processes -----------------------------------------------------

const workerScript = fileURLToPath(new URL('../runtime/fixtures/runtime-worker.ts', import.meta.url));
const root = fileURLToPath(new URL('../..', import.meta.url));
const terminal = new Set(['WorkflowCompleted', 'WorkflowCompensated', 'WorkflowFailed', 'WorkflowCompensationFailed', 'WorkflowCancelled', 'WorkflowResolved']);

interface WorkerStats { decodedEvents: number; decodedOwnEvents: number; appendedEvents: number; partitions: number; owned: number[] }

function startServeWorker(storeUri: string, calls: string) {
  const child = spawn(process.execPath, ['--max-semi-space-size=32', '--import', 'tsx', workerScript, storeUri, 'serve', 'x', '0', calls, '0'], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  const stats = (): WorkerStats | undefined => {
    const lines = out.split('\n').filter((line) => line.startsWith('stats '));
    return lines.length === 0 ? undefined : (JSON.parse(lines[lines.length - 1]!.slice(6)) as WorkerStats);
  };
  return { child, exited, stats };
}

async function until(condition: () => boolean | Promise<boolean>, what: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`bench: gave up waiting for ${what} after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

interface ClusterRun {
  readonly perSecond: number;
  readonly shares: number[];
  readonly failover?: { readonly progressMs: number; readonly lost: number; readonly doubleDispatches: number };
}

/** `runtimes` serve workers on `storeUri` drive `count` trading workflows; with `kill`, one of them is SIGKILLed at 40% of the starts. */
async function cluster(storeUri: string, runtimes: number, count: number, kill: boolean): Promise<ClusterRun> {
  const calls = join(dir, `calls-${randomUUID()}.log`);
  writeFileSync(calls, '');
  const workers = Array.from({ length: runtimes }, () => startServeWorker(storeUri, calls));
  const store = await openStore(storeUri);
  try {
    await until(() => workers.every((worker) => (worker.stats()?.partitions ?? 0) > 0) && workers.reduce((sum, worker) => sum + (worker.stats()?.partitions ?? 0), 0) === 16, 'the workers to lease every partition', 60_000);
    const before = workers.map((worker) => worker.stats()!);
    const ids = Array.from({ length: count }, () => randomUUID());
    const unfinished = new Map<string, bigint>();
    const ended = async () => {
      for (const [id] of unfinished) {
        for await (const last of store.readStream(workflowStream(id), { direction: 'backwards', fromRevision: 'end', maxCount: 1 })) {
          if (terminal.has(last.type)) unfinished.delete(id);
          else unfinished.set(id, last.revision);
        }
      }
    };
    let startEvents = 0;
    let shares: number[] = [];
    const measureShares = () => {
      const now = workers.map((worker) => worker.stats()!);
      const total = startEvents + now.reduce((sum, stats, i) => sum + stats.appendedEvents - before[i]!.appendedEvents, 0);
      shares = now.map((stats, i) => (stats.decodedEvents - stats.decodedOwnEvents - before[i]!.decodedEvents + before[i]!.decodedOwnEvents + stats.appendedEvents - before[i]!.appendedEvents) / total);
    };
    let killedAt = 0;
    let killedPid = '';
    let progressMs = -1;
    let orphans = new Map<string, bigint>();
    const started = performance.now();
    const deadline = Date.now() + 600_000;
    for (let next = 0; next < count || unfinished.size > 0; ) {
      if (Date.now() > deadline) break;
      if (kill && killedAt === 0 && next >= count * 0.4) {
        measureShares();
        const victim = workers[0]!;
        const owned = new Set(victim.stats()!.owned);
        victim.child.kill('SIGKILL');
        await victim.exited;
        killedAt = performance.now();
        killedPid = String(victim.child.pid);
        await ended();
        orphans = new Map([...unfinished].filter(([id]) => owned.has(partitionOf(id, 16))));
      }
      await ended();
      if (killedAt > 0 && progressMs < 0) {
        if (orphans.size === 0 || [...orphans].some(([id, revision]) => !unfinished.has(id) || unfinished.get(id)! > revision)) progressMs = performance.now() - killedAt;
      }
      for (let batch = 0; batch < 25 && unfinished.size < 100 && next < count; batch++, next++) {
        startEvents += (await appendStart(store, ids[next]!, tradingPipeline, input)).length;
        unfinished.set(ids[next]!, 0n);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const seconds = (performance.now() - started) / 1000;
    if (!kill) measureShares();
    let doubleDispatches = 0;
    if (kill) {
      const firstBy = new Map<string, string>();
      for (const line of readFileSync(calls, 'utf8').split('\n').filter(Boolean)) {
        const [pid = '', key = '', attempt = ''] = line.split(' ');
        const attemptKey = `${key}#${attempt}`;
        const first = firstBy.get(attemptKey);
        if (first === undefined) firstBy.set(attemptKey, pid);
        else if (first !== killedPid) doubleDispatches++;
      }
    }
    return { perSecond: count / seconds, shares, ...(kill ? { failover: { progressMs, lost: unfinished.size, doubleDispatches } } : {}) };
  } finally {
    for (const worker of workers) worker.child.kill('SIGTERM');
    await Promise.all(workers.map((worker) => worker.exited));
    await store.close();
  }
}

const clusterResults: Record<string, { value: number; unit: string }> = {};
async function clusterPart(): Promise<void> {
  const count = Math.max(60, Math.round(300 * scale));
  const esdbBacking = await openStore(`sqlite:${join(dir, 'esdb-backing.db')}`);
  const server = await startEsdbServer({ store: esdbBacking, port: 0 });
  try {
    const stores: [string, () => string][] = [
      ['sqlite', () => `sqlite:${join(dir, `cluster-${randomUUID()}.db`)}`],
      ['esdb', () => `esdb://127.0.0.1:${server.port}?tls=false`],
    ];
    for (const [name, uri] of stores) {
      for (const runtimes of [1, 2, 3]) {
        const run = await cluster(uri(), runtimes, count, false);
        console.log(`${name}: ${runtimes} runtime(s), ${count} trading workflows: ${run.perSecond.toFixed(1)} workflows/s; shares ${run.shares.map((share) => share.toFixed(3)).join(' ')}`);
        clusterResults[`${name}.runtimes${runtimes}.workflows_per_s`] = result(run.perSecond, 'workflows/s');
        clusterResults[`${name}.runtimes${runtimes}.max_share`] = result(Math.max(...run.shares), 'of the workflow events');
      }
      const failed = await cluster(uri(), 3, count, true);
      console.log(`${name}: failover, 1 of 3 killed at 40%: its workflows moved again after ${failed.failover!.progressMs.toFixed(0)} ms; lost ${failed.failover!.lost}, double dispatches ${failed.failover!.doubleDispatches}; shares before the kill ${failed.shares.map((share) => share.toFixed(3)).join(' ')}`);
      clusterResults[`${name}.failover.progress_ms`] = result(failed.failover!.progressMs, 'ms');
      clusterResults[`${name}.failover.lost`] = result(failed.failover!.lost, 'workflows');
      clusterResults[`${name}.failover.double_dispatches`] = result(failed.failover!.doubleDispatches, 'calls');
    }
  } finally {
    await server.close();
    await esdbBacking.close();
  }
}

const result = (value: number, unit: string) => ({ value: Math.round(value * 100) / 100, unit });
const only = process.env.BENCH_ONLY;
const startupResults: Record<string, { value: number; unit: string }> = {};
if (only === undefined || only === 'startup') {
  const emptyUri = `sqlite:${join(dir, 'empty.db')}`;
  const fullUri = `sqlite:${join(dir, 'completed.db')}`;
  const perWorkflow = await bytesPerWorkflow(Math.round(200 * Math.max(scale, 0.5)));
  console.log(`bytes per trading workflow on disk: ${perWorkflow.toFixed(0)}`);
  const empty = await startup(emptyUri, 7);
  console.log(`start-up, empty store: runtime ${empty.runtime.toFixed(1)} ms, worker (store, registry, runtime) ${empty.worker.toFixed(1)} ms`);
  const writeMs = await writeCompleted(fullUri, completedWorkflows);
  const fullFile = join(dir, 'completed.db');
  console.log(`wrote ${completedWorkflows} completed trading workflows in bulk in ${(writeMs / 1000).toFixed(1)} s (${(statSync(fullFile).size / 1e6).toFixed(0)} MB)`);
  // Before anything opens a registry on it: the store has no directory of agents yet.
  const [registryEmpty, registryCompleted] = (await registryOpens([`sqlite:${join(dir, 'registry-empty.db')}`, fullUri], 9)) as [RegistryOpen, RegistryOpen];
  console.log(
    `registry open: empty ${registryEmpty.fromDirectory.toFixed(1)} ms; ${completedWorkflows} completed: ${registryCompleted.fromDirectory.toFixed(1)} ms from the directory, ${registryCompleted.scan.toFixed(1)} ms scanning the log (no directory)`,
  );
  // No index yet: the first start reads the whole workflow category (what every start did before), and writes one when it stops.
  const scan = await startup(fullUri, 1);
  console.log(`start-up, ${completedWorkflows} completed, no index (whole category): runtime ${scan.runtime.toFixed(1)} ms`);
  const completed = await startup(fullUri, 7);
  console.log(`start-up, ${completedWorkflows} completed, from the index: runtime ${completed.runtime.toFixed(1)} ms (${(completed.runtime / empty.runtime).toFixed(2)}x empty), worker ${completed.worker.toFixed(1)} ms`);
  Object.assign(startupResults, {
    'startup.empty.ms': result(empty.runtime, 'ms'),
    'startup.completed.ms': result(completed.runtime, 'ms'),
    'startup.completed.ratio': result(completed.runtime / empty.runtime, 'x'),
    'startup.completed.scan.ms': result(scan.runtime, 'ms'),
    'startup.worker.empty.ms': result(empty.worker, 'ms'),
    'startup.worker.completed.ms': result(completed.worker, 'ms'),
    'registry.open.empty.ms': result(registryEmpty.fromDirectory, 'ms'),
    'registry.open.completed.ms': result(registryCompleted.fromDirectory, 'ms'),
    'registry.open.completed.ratio': result(registryCompleted.fromDirectory / registryEmpty.fromDirectory, 'x'),
    'registry.open.completed.scan.ms': result(registryCompleted.scan, 'ms'),
    'completed.workflows': result(completedWorkflows, 'workflows'),
    'bytes.per_trading_workflow': result(perWorkflow, 'bytes'),
  });
}
if (only === undefined || only === 'cluster') await clusterPart();
if (process.env.BENCH_KEEP) console.log(`kept ${dir}`); else rmSync(dir, { recursive: true, force: true });
console.log(JSON.stringify({ bench: 'scale', results: { ...startupResults, ...clusterResults } }));
