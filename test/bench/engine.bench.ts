/**
 * Engine benchmark: the trading saga with no-op agents on the embedded store (durable commits),
 * at 1, 50 and 500 workflows in flight (kept there by the driver: every start finds a slot). Then
 * the durable backlog's cost at 50: every start submitted at once, most stored queued. Then the same at 50 and 500 "observed", as a worker with
 * `--http` and an OpenTelemetry SDK runs: the HTTP API serving with /metrics scraped every second by
 * a child process, as Prometheus does (its fold of the log, the runtime's live figures), and tracing on (a real SDK, batch span
 * processor, an exporter that drops the spans), alternated with plain runs in the same process
 * (plain, observed, observed, plain, then the other way round, three times: drift on a shared machine falls on both). Prints figures, then one JSON line:
 *   {"bench":"engine","results":{"workflows.c1":{"value":N,"unit":"workflows/s"},...}}
 *
 *   npm run bench:engine            (BENCH_SCALE=0.2 for a quick run; runs node --expose-gc for the memory figure)
 *   BENCH_OBSERVED=tracing|http|scrape|context (comma-separated) picks the observed parts (`none`: a control, nothing
 *   added, to see the pairs' noise); BENCH_TRACE_SAMPLE=0.1 samples traces; BENCH_PAIRS=n rounds of pairs (default 3);
 *   BENCH_ONLY=observed runs only the pairs; BENCH_SCRAPE_EVERY_MS=15000 scrapes less often
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { BasicTracerProvider, BatchSpanProcessor, ParentBasedSampler, TraceIdRatioBasedSampler, type ReadableSpan, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import { startApiServer, type ApiServer } from '../../src/api/server.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AgentRegistry, inProcessTransport, type AgentDefinition } from '../../src/agents/index.js';
import { SagaRuntime } from '../../src/saga/runtime/index.js';
import { openStore } from '../../src/store/open.js';
import { tradingPipeline } from '../../sagas/trading/definition.js';
import { benchInput as input, noOpHandlers } from './no-op-agents.js';
import { validateDefinition } from '../../src/workflow/validate.js';
import { scrapeEverySecond } from './scraper.js';
import { medianOf, percentile } from './statistics.js';

const scale = Number(process.env.BENCH_SCALE ?? 1);

async function noOpAgents(): Promise<AgentDefinition[]> {
  return [...(await noOpHandlers())].map(([capability, handlers]) => ({ id: `no-op-${capability}`, capabilities: [capability], transport: inProcessTransport(handlers) }));
}

const agents = await noOpAgents();
const durability = process.env.BENCH_DURABILITY ?? 'full';
/** `thread` (the default for file stores) or `inline`: where the store's writes run. */
const writer = process.env.BENCH_WRITER ?? 'thread';

interface RunResult {
  readonly perSecond: number;
  readonly p50: number;
  readonly p99: number;
  readonly cpuPerStepUs: number;
  readonly workflows: number;
}

/** Spans exported (and dropped) by the observed runs: proof that tracing was on. */
let spansExported = 0;
const droppingExporter: SpanExporter = {
  export(spans: ReadableSpan[], done) {
    spansExported += spans.length;
    done({ code: 0 });
  },
  shutdown: async () => {},
};

/**
 * What the observed runs add: `BENCH_OBSERVED=tracing,http,scrape` (the default: all three), to see
 * what each costs; add `context` for the async-hooks context manager an SDK's `register()` installs
 * (on Node 20 it slows every promise of the process once anything enters a context, as the batch
 * span processor does at each export: a cost of OpenTelemetry on Node 20, not of cadenza's spans).
 */
const observedParts = new Set((process.env.BENCH_OBSERVED ?? 'tracing,http,scrape').split(','));
/**
 * `BENCH_TRACE_SAMPLE=0.1`: the SDK keeps that share of the workflows, whole (docs/operations.md,
 * "Sampling"); default 1, every workflow traced (the SDK's default sampler).
 */
const traceSample = Number(process.env.BENCH_TRACE_SAMPLE ?? 1);
/** `BENCH_SCRAPE_EVERY_MS=15000`: how often /metrics is scraped (default every second; Prometheus' own default is a minute, 15 s is common). */
const scrapeEveryMs = Number(process.env.BENCH_SCRAPE_EVERY_MS ?? 1000);
if (!(scrapeEveryMs >= 100)) throw new Error(`BENCH_SCRAPE_EVERY_MS: expected milliseconds, at least 100, got "${process.env.BENCH_SCRAPE_EVERY_MS}"`);
if (!(traceSample > 0 && traceSample <= 1)) throw new Error(`BENCH_TRACE_SAMPLE: expected a share in (0, 1], got "${process.env.BENCH_TRACE_SAMPLE}"`);

/** What a worker with `--http` and a registered OpenTelemetry SDK adds around the runtime; `stop` removes all of it. */
async function observe(store: Awaited<ReturnType<typeof openStore>>, registry: AgentRegistry, runtime: SagaRuntime): Promise<() => Promise<number>> {
  const ratio = new TraceIdRatioBasedSampler(traceSample);
  const sampler = traceSample < 1 ? { sampler: new ParentBasedSampler({ root: ratio, remoteParentSampled: ratio }) } : {};
  const provider = new BasicTracerProvider({ ...sampler, spanProcessors: [new BatchSpanProcessor(droppingExporter)] });
  if (observedParts.has('tracing')) trace.setGlobalTracerProvider(provider);
  if (observedParts.has('context')) context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  const api: ApiServer | undefined = observedParts.has('http') ? await startApiServer({ store, engine: { runtime, registry, definitions: [validateDefinition(tradingPipeline)] } }) : undefined;
  // Scraped from a child process, as Prometheus does: the scraper's HTTP client is not the engine's cost.
  const scraper = api && observedParts.has('scrape') ? scrapeEverySecond(api.url, scrapeEveryMs) : undefined;
  await scraper?.first;
  return async () => {
    const scrapes = await scraper?.stop();
    await api?.close();
    await provider.shutdown();
    trace.disable();
    context.disable();
    return scrapes?.count ?? 0;
  };
}

/**
 * `concurrency` workflows in flight, kept there by the driver (each start finds a free slot: the
 * fast path, one append per start), or with `submitAll` every start submitted at once, so those
 * beyond `maxInFlight` are stored queued and admitted as slots free (the durable backlog: one more
 * append per start, and latency then includes the wait in the backlog).
 */
async function run(concurrency: number, workflows: number, observed = false, submitAll = false): Promise<RunResult> {
  const dir = mkdtempSync(join(tmpdir(), 'cadenza-bench-engine-'));
  const store = await openStore(`sqlite:${join(dir, 'store.db')}?durability=${durability}&writer=${writer}`);
  const registry = await AgentRegistry.open({ store });
  for (const agent of agents) await registry.register(agent);
  const runtime = await SagaRuntime.start({ store, registry, maxInFlight: concurrency });
  const unobserve = observed ? await observe(store, registry, runtime) : undefined;
  const latencies: number[] = [];
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  // Latency runs from the stored WorkflowStarted to the stored WorkflowCompleted.
  let queued = 0;
  const one = async (i: number): Promise<void> => {
    const started = await runtime.startWorkflow(tradingPipeline, input, { workflowId: `bench-${concurrency}-${i}` });
    if (started.queued) queued++;
    const state = await runtime.waitForEnd(started.workflowId);
    if (state.status !== 'completed') throw new Error(`workflow ${started.workflowId} ended ${state.status}`);
    latencies.push((state.endedAt ?? state.startedAt) - state.startedAt);
  };
  if (submitAll) await Promise.all(Array.from({ length: workflows }, (_, i) => one(i)));
  else {
    let next = 0;
    await Promise.all(Array.from({ length: Math.min(concurrency, workflows) }, async () => {
      while (next < workflows) await one(next++);
    }));
  }
  if (submitAll ? queued !== workflows - concurrency : queued !== 0) throw new Error(`${queued} of ${workflows} starts were queued at c${concurrency}${submitAll ? '' : ' under capacity'}`);
  const elapsedMs = performance.now() - started;
  const cpu = process.cpuUsage(cpuBefore);
  if (unobserve && (await unobserve()) === 0 && elapsedMs > 3000 && observedParts.has('scrape')) throw new Error('observed run: /metrics was never scraped');
  await runtime.stop();
  await registry.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
  latencies.sort((a, b) => a - b);
  const steps = workflows * tradingPipeline.steps.length;
  return {
    perSecond: workflows / (elapsedMs / 1000),
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    cpuPerStepUs: (cpu.user + cpu.system) / steps,
    workflows,
  };
}

const round = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;

/**
 * Heap per in-flight workflow: start workflows whose first agent never answers (until shutdown),
 * so each holds its state, its timer, its pending agent call and its queue. Run with --expose-gc.
 */
async function memoryPerWorkflow(workflows: number): Promise<number> {
  const store = await openStore('memory:');
  const registry = await AgentRegistry.open({ store });
  const capabilities = [...new Set(tradingPipeline.steps.map((step) => step.capability))];
  const hang = (_input: unknown, ctx: { signal: AbortSignal }) => new Promise<null>((resolve) => ctx.signal.addEventListener('abort', () => resolve(null)));
  await registry.register({ id: 'silent', capabilities, transport: inProcessTransport({ 'collect-market-data': hang }) });
  const runtime = await SagaRuntime.start({ store, registry, maxInFlight: workflows });
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  const before = process.memoryUsage().heapUsed;
  await Promise.all(Array.from({ length: workflows }, () => runtime.startWorkflow(tradingPipeline, input)));
  gc?.();
  const after = process.memoryUsage().heapUsed;
  if (runtime.stats().cachedWorkflows !== workflows) throw new Error('workflows did not stay in flight');
  await runtime.stop();
  await registry.close();
  await store.close();
  return (after - before) / workflows / 1024;
}

/** `BENCH_ONLY=observed`: only the paired plain and observed runs (after the warm-up), for the observability overhead. */
const onlyObserved = process.env.BENCH_ONLY === 'observed';
if (process.env.BENCH_ONLY !== undefined && !onlyObserved) throw new Error(`BENCH_ONLY: expected "observed", got "${process.env.BENCH_ONLY}"`);

// Warm up the JIT and the file system once, unmeasured.
await run(50, Math.max(50, Math.round(200 * scale)));
// And the observed path's own code (the SDK's spans, the fold, fastify's routes), which the plain
// warm-up never runs: without this the first observed runs paid its compilation, and with 2,000
// workflows a run (about a second) that read as 10-40% of "overhead" (docs/benchmarks.md).
for (let warm = 0; warm < 2; warm++) await run(50, Math.max(100, Math.round(2_000 * scale)), true);
spansExported = 0; // Counts the measured runs' spans only.

/**
 * `BENCH_PAIRS=n`: n rounds of plain and observed, ABBA then BAAB in turn, so that a drift or a slow
 * middle of a round falls on both sides alike; each figure is the median of its side's runs. Default
 * 3 (since 2026-12-02; it was 1, the mean of two runs a side): one round's noise was as wide as the
 * 5% it is meant to show (docs/benchmarks.md, the `BENCH_OBSERVED=none` control).
 */
const pairRounds = Number(process.env.BENCH_PAIRS ?? 3);
if (!Number.isInteger(pairRounds) || pairRounds < 1) throw new Error(`BENCH_PAIRS: expected a whole number of rounds, got "${process.env.BENCH_PAIRS}"`);

function medianRun(runs: RunResult[], workflows: number): RunResult {
  const of = (field: 'perSecond' | 'p50' | 'p99' | 'cpuPerStepUs') => medianOf(runs.map((result) => result[field]));
  return { perSecond: of('perSecond'), p50: of('p50'), p99: of('p99'), cpuPerStepUs: of('cpuPerStepUs'), workflows };
}

// Plain and observed, alternated at the same sizes (above).
async function paired(concurrency: number, workflows: number): Promise<{ plain: RunResult; observed: RunResult }> {
  const plain: RunResult[] = [];
  const observed: RunResult[] = [];
  for (let round = 0; round < pairRounds; round++) {
    const order = round % 2 === 0 ? [false, true, true, false] : [true, false, false, true];
    for (const isObserved of order) (isObserved ? observed : plain).push(await run(concurrency, workflows, isObserved));
  }
  return { plain: medianRun(plain, workflows), observed: medianRun(observed, workflows) };
}
const pair50 = await paired(50, Math.max(100, Math.round(2_000 * scale)));

// The durable backlog's cost: every start submitted at once (all but the first 50 stored queued, then
// admitted: one more append each) against the fast path, alternated the same way.
async function queuedPair(concurrency: number, workflows: number): Promise<{ fast: RunResult; queued: RunResult }> {
  const fast1 = await run(concurrency, workflows);
  const queued1 = await run(concurrency, workflows, false, true);
  const queued2 = await run(concurrency, workflows, false, true);
  const fast2 = await run(concurrency, workflows);
  const mean = (a: RunResult, b: RunResult): RunResult => ({ perSecond: (a.perSecond + b.perSecond) / 2, p50: (a.p50 + b.p50) / 2, p99: (a.p99 + b.p99) / 2, cpuPerStepUs: (a.cpuPerStepUs + b.cpuPerStepUs) / 2, workflows });
  return { fast: mean(fast1, fast2), queued: mean(queued1, queued2) };
}
const overheadPct = (pair: { plain: RunResult; observed: RunResult }) => (1 - pair.observed.perSecond / pair.plain.perSecond) * 100;
function printPairs(pair50: { plain: RunResult; observed: RunResult }, pair500: { plain: RunResult; observed: RunResult }): void {
  for (const [name, pair] of [['c50', pair50], ['c500', pair500]] as const) {
    console.log(`${name.padEnd(5)} plain ${round(pair.plain.perSecond)} workflows/s, observed (${[...observedParts].join(', ')}${observedParts.has('tracing') ? `, ${traceSample * 100}% of workflows traced` : ''}) ${round(pair.observed.perSecond)} workflows/s: ${round(overheadPct(pair))}% slower; cpu/step ${round(pair.plain.cpuPerStepUs)} -> ${round(pair.observed.cpuPerStepUs)} us`);
  }
  console.log(`(${spansExported} spans exported and dropped in the observed runs)`);
}
function pairFigures(pair50: { plain: RunResult; observed: RunResult }, pair500: { plain: RunResult; observed: RunResult }) {
  return {
    'paired.c50.plain': { value: round(pair50.plain.perSecond), unit: 'workflows/s' },
    'paired.c50.observed': { value: round(pair50.observed.perSecond), unit: 'workflows/s' },
    'paired.c50.observed_overhead': { value: round(overheadPct(pair50)), unit: '%' },
    'paired.c500.plain': { value: round(pair500.plain.perSecond), unit: 'workflows/s' },
    'paired.c500.observed': { value: round(pair500.observed.perSecond), unit: 'workflows/s' },
    'paired.c500.observed_overhead': { value: round(overheadPct(pair500)), unit: '%' },
    'paired.c500.observed.cpu_per_step.us': { value: round(pair500.observed.cpuPerStepUs), unit: 'us' },
    'paired.c500.plain.cpu_per_step.us': { value: round(pair500.plain.cpuPerStepUs), unit: 'us' },
  };
}

if (onlyObserved) {
  const pair500 = await paired(500, Math.max(500, Math.round(10_000 * scale)));
  if (spansExported === 0 && observedParts.has('tracing')) throw new Error('observed runs exported no spans: tracing was not on');
  printPairs(pair50, pair500);
  console.log(JSON.stringify({ bench: 'engine', results: pairFigures(pair50, pair500) }));
  process.exit(0);
}

const c1 = await run(1, Math.max(20, Math.round(200 * scale)));
const c50 = await run(50, Math.max(100, Math.round(2_000 * scale)));
// 10,000 at c500 (it was 5,000 until 2026-11-24 08:40): the ramp-up and the final drain, when fewer
// than 500 are left in flight, weigh less, so the figure is the sustained rate (5,000 read ~5-8% lower).
const c500 = await run(500, Math.max(500, Math.round(10_000 * scale)));
const backlog50 = await queuedPair(50, Math.max(100, Math.round(2_000 * scale)));
const pair500 = await paired(500, Math.max(500, Math.round(10_000 * scale)));
if (spansExported === 0 && observedParts.has('tracing')) throw new Error('observed runs exported no spans: tracing was not on');

const memoryKib = await memoryPerWorkflow(Math.max(1_000, Math.round(5_000 * scale)));

for (const [name, r] of [['c1', c1], ['c50', c50], ['c500', c500]] as const) {
  console.log(`${name.padEnd(5)} ${String(r.workflows).padStart(6)} workflows  ${round(r.perSecond).toString().padStart(8)} workflows/s  p50 ${round(r.p50, 2)} ms  p99 ${round(r.p99, 2)} ms  cpu/step ${round(r.cpuPerStepUs)} us`);
}
console.log(`(durability=${durability}, writer=${writer}, ${tradingPipeline.steps.length} steps per workflow, no-op agents)`);
console.log(`memory per in-flight workflow: ${round(memoryKib)} KiB`);
printPairs(pair50, pair500);
console.log(`c50   backlog: fast path ${round(backlog50.fast.perSecond)} workflows/s, all submitted at once (queued, then admitted) ${round(backlog50.queued.perSecond)} workflows/s; cpu/step ${round(backlog50.fast.cpuPerStepUs)} -> ${round(backlog50.queued.cpuPerStepUs)} us`);
console.log(
  JSON.stringify({
    bench: 'engine',
    results: {
      'workflows.c1': { value: round(c1.perSecond), unit: 'workflows/s' },
      'workflows.c50': { value: round(c50.perSecond), unit: 'workflows/s' },
      'workflows.c500': { value: round(c500.perSecond), unit: 'workflows/s' },
      'latency.p50.c1': { value: round(c1.p50, 3), unit: 'ms' },
      'latency.p99.c1': { value: round(c1.p99, 3), unit: 'ms' },
      'latency.p50.c50': { value: round(c50.p50, 3), unit: 'ms' },
      'latency.p99.c50': { value: round(c50.p99, 3), unit: 'ms' },
      'latency.p99.c500': { value: round(c500.p99, 3), unit: 'ms' },
      'overhead.per_step.us': { value: round(c500.cpuPerStepUs), unit: 'us' },
      'overhead.per_step.c1.us': { value: round(c1.cpuPerStepUs), unit: 'us' },
      'memory.per_inflight_workflow.kib': { value: round(memoryKib), unit: 'KiB' },
      ...pairFigures(pair50, pair500),
      'backlog.c50.fast': { value: round(backlog50.fast.perSecond), unit: 'workflows/s' },
      'backlog.c50.queued': { value: round(backlog50.queued.perSecond), unit: 'workflows/s' },
      'backlog.c50.fast.cpu_per_step.us': { value: round(backlog50.fast.cpuPerStepUs), unit: 'us' },
      'backlog.c50.queued.cpu_per_step.us': { value: round(backlog50.queued.cpuPerStepUs), unit: 'us' },
    },
  }),
);
