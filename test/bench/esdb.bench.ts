/**
 * EventStoreDB-path benchmark (`npm run bench:esdb`): the embedded EventStoreDB-compatible server over
 * a durable sqlite temp file, in its own process as a database server would be, driven through the
 * real @eventstore/db-client; beside it the embedded store's own figures measured directly through
 * the port in the same run. Then the engine itself, the same 5-step saga with no-op agents,
 * through the adapter (`esdb://`) against such a server and on the embedded store directly, in
 * alternating rounds after one unmeasured warm-up round of both (`BENCH_ENGINE_ROUNDS`, default 3; medians), with the ratios of the two, and the CPU each path spends per workflow at 50 in flight (both
 * processes on the EventStoreDB path): on a shared machine the CPU figures move far less than the
 * throughput. The last line of output is one JSON object with every figure.
 *
 * The server process is this file run again with `--serve <sqlite file>`; it answers a `cpu` line on
 * its stdin with its own CPU time so far.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { sampleEvent } from './sample-event.js';
import { medianOf } from './statistics.js';
import { EventStoreDBClient, jsonEvent, START } from '@eventstore/db-client';
import { AgentRegistry, inProcessTransport } from '../../src/agents/index.js';
import { startEsdbServer } from '../../src/esdb-server/index.js';
import { SagaRuntime } from '../../src/saga/runtime/index.js';
import { openServedStore, openStore } from '../../src/store/open.js';
import type { EventData, EventStore } from '../../src/store/port.js';
import { workflow } from '../../src/workflow/index.js';

type Result = { value: number; unit: string };
const results: Record<string, Result> = {};
const serving = process.argv.includes('--serve');
/** Temp files of the measuring process (the serving child gets its file as an argument). */
const directory = serving ? '' : mkdtempSync(join(tmpdir(), 'cadenza-bench-esdb-'));

const BATCHES = 200;
const BATCH_SIZE = 100;
const CONCURRENT_ROUNDS = 50;
const CONCURRENCY = 100;
const scale = Number(process.env.BENCH_SCALE ?? 1);
const ENGINE_CONCURRENCY = 50;
const ENGINE_WORKFLOWS = Math.max(100, Math.round(2_000 * scale));
const SEQUENTIAL_WORKFLOWS = Math.max(20, Math.round(200 * scale));
const ENGINE_WARM_UP = Math.max(50, Math.round(200 * scale));

function record(name: string, count: number, seconds: number): void {
  const value = Math.round(count / seconds);
  results[name] = { value, unit: 'events/s' };
  console.log(`${name.padEnd(30)} ${value.toLocaleString('en-US').padStart(10)} events/s  (${count} in ${seconds.toFixed(2)} s)`);
}


const asClientEvent = (event: EventData) => jsonEvent({ id: event.id, type: event.type, data: event.data as Record<string, unknown>, metadata: event.metadata });

async function timed(action: () => Promise<number>): Promise<[number, number]> {
  const started = performance.now();
  const count = await action();
  return [count, (performance.now() - started) / 1000];
}

/**
 * Child mode: serve the given sqlite file as `cadenza store serve` does until SIGTERM, after printing
 * one JSON ready line. `BENCH_SERVED_QUERY` (e.g. `smallBatch=64`, the embedded default) adds store
 * URI options, to compare writer policies.
 */
async function serve(file: string): Promise<void> {
  const query = process.env.BENCH_SERVED_QUERY;
  const store = await openServedStore(`sqlite:${file}${query ? `?${query}` : ''}`);
  const server = await startEsdbServer({ store, port: 0 });
  process.stdout.write(`${JSON.stringify({ address: server.address })}\n`);
  process.stdin.setEncoding('utf8').on('data', () => process.stdout.write(`${JSON.stringify({ cpuMs: cpuMsSoFar() })}\n`));
  await new Promise((resolve) => process.once('SIGTERM', resolve));
  process.stdin.destroy();
  await server.close();
  await store.close();
}

/** Node flags for the server process only, e.g. `BENCH_SERVER_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/server-profile"`. */
const serverNodeArgs = (process.env.BENCH_SERVER_NODE_ARGS ?? '').split(' ').filter((arg) => arg !== '');

/** This process's CPU time so far (every thread: the main one, V8's and the store's writer), in ms. */
function cpuMsSoFar(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

async function startServerProcess(file: string) {
  const child = spawn(process.execPath, ['--import', 'tsx', ...serverNodeArgs, fileURLToPath(import.meta.url), '--serve', file], { stdio: ['pipe', 'pipe', 'inherit'] });
  const [chunk] = (await once(child.stdout, 'data')) as [Buffer];
  const { address } = JSON.parse(chunk.toString().split('\n')[0] ?? '') as { address: string };
  return {
    address,
    /** The server process's CPU time so far, in ms. */
    cpuMs: async (): Promise<number> => {
      const answered = once(child.stdout, 'data') as Promise<[Buffer]>;
      child.stdin.write('cpu\n');
      const [line] = await answered;
      return (JSON.parse(line.toString()) as { cpuMs: number }).cpuMs;
    },
    stop: async () => {
      child.kill('SIGTERM');
      await once(child, 'exit');
    },
  };
}

async function throughClient(): Promise<void> {
  const server = await startServerProcess(join(directory, 'served.db'));
  const client = EventStoreDBClient.connectionString(`esdb://${server.address}?tls=false`);
  try {
    await client.appendToStream('warm-up', asClientEvent(sampleEvent(0)));
    record('esdb.append.batch100', ...(await timed(async () => {
      for (let batch = 0; batch < BATCHES; batch++) {
        await client.appendToStream('batched', Array.from({ length: BATCH_SIZE }, (_, index) => asClientEvent(sampleEvent(batch * BATCH_SIZE + index))));
      }
      return BATCHES * BATCH_SIZE;
    })));
    record('esdb.append.concurrent100', ...(await timed(async () => {
      for (let round = 0; round < CONCURRENT_ROUNDS; round++) {
        await Promise.all(Array.from({ length: CONCURRENCY }, (_, index) =>
          client.appendToStream(`concurrent-${index}`, asClientEvent(sampleEvent(round * CONCURRENCY + index)))));
      }
      return CONCURRENT_ROUNDS * CONCURRENCY;
    })));
    record('esdb.subscribe.catchup', ...(await timed(async () => {
      const subscription = client.subscribeToAll({ fromPosition: START });
      let count = 0;
      await new Promise<void>((resolve, reject) => {
        subscription.on('data', () => count++);
        subscription.on('caughtUp', () => resolve());
        subscription.on('error', reject);
      });
      await subscription.unsubscribe();
      return count;
    })));
  } finally {
    await client.dispose();
    await server.stop();
  }
}

async function directlyThroughThePort(): Promise<void> {
  const store: EventStore = await openStore(`sqlite:${join(directory, 'direct.db')}`);
  try {
    await store.append('warm-up', [sampleEvent(0)]);
    record('append.batch100', ...(await timed(async () => {
      for (let batch = 0; batch < BATCHES; batch++) {
        await store.append('batched', Array.from({ length: BATCH_SIZE }, (_, index) => sampleEvent(batch * BATCH_SIZE + index)));
      }
      return BATCHES * BATCH_SIZE;
    })));
    record('append.concurrent100', ...(await timed(async () => {
      for (let round = 0; round < CONCURRENT_ROUNDS; round++) {
        await Promise.all(Array.from({ length: CONCURRENCY }, (_, index) => store.append(`concurrent-${index}`, [sampleEvent(round * CONCURRENCY + index)])));
      }
      return CONCURRENT_ROUNDS * CONCURRENCY;
    })));
    record('subscribe.catchup', ...(await timed(async () => {
      const subscription = store.subscribeToAll({ fromPosition: 'start' });
      let count = 0;
      for await (const message of subscription) {
        if (message.kind === 'event') count++;
        else if (message.kind === 'caughtUp') break;
      }
      await subscription.unsubscribe();
      return count;
    })));
  } finally {
    await store.close();
  }
}

/** Five steps in a chain, each a no-op agent call answering with a small output the next step reads. */
const fiveSteps = ['one', 'two', 'three', 'four', 'five'].reduce(
  (builder, id, index, ids) => builder.step({
    id, action: 'work', capability: 'work', timeoutMs: 30_000,
    input: { order: index === 0 ? 'input.order' : `${ids[index - 1]}.order` },
    output: { [id]: '$' },
    ...(index > 0 ? { dependsOn: [ids[index - 1] as string] } : {}),
  }),
  workflow('bench-five-steps'),
).build();

interface EngineFigures {
  readonly perSecond: number;
  readonly sequentialP50: number;
  /** CPU per workflow at ENGINE_CONCURRENCY in flight, in ms: this process's, plus the server's when there is one. */
  readonly cpuMsPerWorkflow: number;
  /** The server's share of it (0 without a server). */
  readonly serverCpuMsPerWorkflow: number;
}

/**
 * The engine on one store: a warm-up, then workflows one at a time (latency: from the start call
 * to the end seen by `waitForEnd`, median), then `ENGINE_CONCURRENCY` in flight (throughput, and
 * the CPU spent: this process's and `serverCpuMs`'s).
 */
async function engineOn(store: EventStore, serverCpuMs: () => Promise<number> = async () => 0): Promise<EngineFigures> {
  const registry = await AgentRegistry.open({ store });
  await registry.register({ id: 'no-op', capabilities: ['work'], transport: inProcessTransport({ work: async (stepInput) => stepInput }) });
  const runtime = await SagaRuntime.start({ store, registry, maxInFlight: ENGINE_CONCURRENCY });
  let next = 0;
  const one = async (): Promise<number> => {
    const started = performance.now();
    const { workflowId } = await runtime.startWorkflow(fiveSteps, { order: { id: next++, amount: 42 } });
    const state = await runtime.waitForEnd(workflowId);
    if (state.status !== 'completed') throw new Error(`workflow ${workflowId} ended ${state.status}`);
    return performance.now() - started;
  };
  const inFlight = async (count: number): Promise<number> => {
    const started = performance.now();
    let left = count;
    await Promise.all(Array.from({ length: ENGINE_CONCURRENCY }, async () => {
      while (left > 0) {
        left -= 1;
        await one();
      }
    }));
    return count / ((performance.now() - started) / 1000);
  };
  try {
    await inFlight(ENGINE_WARM_UP);
    const latencies: number[] = [];
    for (let i = 0; i < SEQUENTIAL_WORKFLOWS; i++) latencies.push(await one());
    latencies.sort((a, b) => a - b);
    const serverBefore = await serverCpuMs();
    const ownBefore = cpuMsSoFar();
    const perSecond = await inFlight(ENGINE_WORKFLOWS);
    const own = cpuMsSoFar() - ownBefore;
    const server = (await serverCpuMs()) - serverBefore;
    return {
      perSecond,
      sequentialP50: latencies[Math.floor(latencies.length / 2)] as number,
      cpuMsPerWorkflow: (own + server) / ENGINE_WORKFLOWS,
      serverCpuMsPerWorkflow: server / ENGINE_WORKFLOWS,
    };
  } finally {
    await runtime.stop();
    await registry.close();
  }
}

/**
 * `BENCH_ENGINE_ROUNDS=n` (default 3): rounds of the two engines, the EventStoreDB path first in
 * even rounds and second in odd ones (ABBA...), so a machine that slows down for minutes at a time
 * slows both sides of a ratio; each figure is the median of its side's rounds. One run of each, one
 * after the other, gave ratios that moved by a third between invocations: mostly the embedded
 * denominator, measured later than its numerator (docs/benchmarks.md).
 */
const ENGINE_ROUNDS = Number(process.env.BENCH_ENGINE_ROUNDS ?? 3);
if (!Number.isInteger(ENGINE_ROUNDS) || ENGINE_ROUNDS < 1) throw new Error(`BENCH_ENGINE_ROUNDS: expected a whole number of rounds, got "${process.env.BENCH_ENGINE_ROUNDS}"`);

/** The engine through the client against a server process over its own new sqlite file. */
async function engineThroughClient(round: number | 'warm-up'): Promise<EngineFigures> {
  const server = await startServerProcess(join(directory, `engine-served-${round}.db`));
  const esdbStore = await openStore(`esdb://${server.address}?tls=false`);
  try {
    return await engineOn(esdbStore, server.cpuMs);
  } finally {
    await esdbStore.close();
    await server.stop();
  }
}

/** The engine on the embedded store directly, over its own new sqlite file. */
async function engineEmbedded(round: number | 'warm-up'): Promise<EngineFigures> {
  const embeddedStore = await openStore(`sqlite:${join(directory, `engine-direct-${round}.db`)}`);
  try {
    return await engineOn(embeddedStore);
  } finally {
    await embeddedStore.close();
  }
}

function medianFigures(runs: readonly EngineFigures[]): EngineFigures {
  const of = (field: keyof EngineFigures) => medianOf(runs.map((figures) => figures[field]));
  return { perSecond: of('perSecond'), sequentialP50: of('sequentialP50'), cpuMsPerWorkflow: of('cpuMsPerWorkflow'), serverCpuMsPerWorkflow: of('serverCpuMsPerWorkflow') };
}

async function engines(): Promise<void> {
  const round = (n: number, digits: number) => Math.round(n * 10 ** digits) / 10 ** digits;
  const clientRuns: EngineFigures[] = [];
  const embeddedRuns: EngineFigures[] = [];
  // One round of both, unmeasured: the first measured round's client path read 25-40% slower than
  // the others (this process's client, adapter and runtime code still being compiled), so it was a
  // warm-up counted as a round (docs/benchmarks.md).
  await engineThroughClient('warm-up');
  await engineEmbedded('warm-up');
  for (let index = 0; index < ENGINE_ROUNDS; index++) {
    const clientFirst = index % 2 === 0;
    let client: EngineFigures;
    let embedded: EngineFigures;
    if (clientFirst) {
      client = await engineThroughClient(index);
      embedded = await engineEmbedded(index);
    } else {
      embedded = await engineEmbedded(index);
      client = await engineThroughClient(index);
    }
    clientRuns.push(client);
    embeddedRuns.push(embedded);
    console.log(`round ${index + 1} of ${ENGINE_ROUNDS} (${clientFirst ? 'client path first' : 'embedded first'}): c50 ${round(client.perSecond, 1)} / ${round(embedded.perSecond, 1)} workflows/s (ratio ${round(client.perSecond / embedded.perSecond, 3)}), sequential p50 ${round(client.sequentialP50, 2)} / ${round(embedded.sequentialP50, 2)} ms (ratio ${round(client.sequentialP50 / embedded.sequentialP50, 2)})`);
  }
  const throughClient = medianFigures(clientRuns);
  const embedded = medianFigures(embeddedRuns);
  // The ratios of the medians, and the median of each round's own ratio (its two sides measured minutes apart at most).
  const roundRatios = (of: (figures: EngineFigures) => number) => medianOf(clientRuns.map((client, index) => of(client) / of(embeddedRuns[index] as EngineFigures)));
  results['esdb.engine.workflows.c50'] = { value: round(throughClient.perSecond, 1), unit: 'workflows/s' };
  results['esdb.engine.latency.p50.c1'] = { value: round(throughClient.sequentialP50, 2), unit: 'ms' };
  results['engine.workflows.c50'] = { value: round(embedded.perSecond, 1), unit: 'workflows/s' };
  results['engine.latency.p50.c1'] = { value: round(embedded.sequentialP50, 2), unit: 'ms' };
  results['ratio.engine.workflows.c50'] = { value: round(throughClient.perSecond / embedded.perSecond, 3), unit: 'esdb / embedded' };
  results['ratio.engine.latency.p50.c1'] = { value: round(throughClient.sequentialP50 / embedded.sequentialP50, 2), unit: 'esdb / embedded' };
  results['ratio.engine.workflows.c50.round_median'] = { value: round(roundRatios((figures) => figures.perSecond), 3), unit: 'esdb / embedded' };
  results['ratio.engine.latency.p50.c1.round_median'] = { value: round(roundRatios((figures) => figures.sequentialP50), 2), unit: 'esdb / embedded' };
  results['esdb.engine.cpu.c50'] = { value: round(throughClient.cpuMsPerWorkflow, 3), unit: 'ms per workflow, engine and server processes' };
  results['engine.cpu.c50'] = { value: round(embedded.cpuMsPerWorkflow, 3), unit: 'ms per workflow' };
  results['ratio.engine.cpu.c50'] = { value: round(throughClient.cpuMsPerWorkflow / embedded.cpuMsPerWorkflow, 2), unit: 'esdb / embedded' };
  results['engine.rounds'] = { value: ENGINE_ROUNDS, unit: 'rounds' };
  for (const [name, figures] of [['engine through the client', throughClient], ['engine on the embedded store', embedded]] as const) {
    console.log(`${name.padEnd(30)} ${round(figures.perSecond, 1).toString().padStart(10)} workflows/s at ${ENGINE_CONCURRENCY} in flight (${round(figures.cpuMsPerWorkflow, 3)} ms CPU each${figures.serverCpuMsPerWorkflow > 0 ? `, the server's ${round(figures.serverCpuMsPerWorkflow, 3)}` : ''}), sequential p50 ${round(figures.sequentialP50, 2)} ms (medians of ${ENGINE_ROUNDS} rounds)`);
  }
}

if (serving) {
  await serve(process.argv[process.argv.indexOf('--serve') + 1] ?? '');
} else {
  try {
    console.log(`EventStoreDB path: embedded server (own process) over durable sqlite, real client (node ${process.version})`);
    if (process.env.BENCH_ONLY !== 'engine') {
      await throughClient();
      await directlyThroughThePort();
    }
    await engines();
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
  console.log(JSON.stringify({ bench: 'esdb', results }));
}
