/**
 * What the HTTP API costs a busy engine: the trading saga with no-op agents on the embedded store at
 * 500 in flight, run with HTTP off, with the API server beside it (`engine` option, as
 * `cadenza worker --http` serves it), and with that server scraped at `/metrics` every second over a
 * real socket by another process (as Prometheus does). The modes alternate round by round in a
 * rotating order (off, http, scrape; then http, scrape, off; ...) so that a slow stretch of a shared
 * machine falls on all of them, and each mode's figure is the median of its runs. Also times each
 * scrape (request to last byte) and prints the load average before and after. One JSON line last:
 *   {"bench":"http","results":{"workflows.off":{...},"workflows.http":{...},"workflows.scrape":{...},...}}
 *
 *   npm run bench:http        BENCH_SCALE=0.3 for a shorter run; BENCH_ROUNDS (default 5);
 *                             BENCH_MODES=scrape to run one mode alone (e.g. under node --cpu-prof)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { AgentRegistry, inProcessTransport } from '../../src/agents/index.js';
import { startApiServer } from '../../src/api/server.js';
import { SagaRuntime } from '../../src/saga/runtime/index.js';
import { openStore } from '../../src/store/open.js';
import { validateDefinition } from '../../src/workflow/validate.js';
import { tradingPipeline } from '../../sagas/trading/definition.js';
import { benchInput, noOpHandlers } from './no-op-agents.js';
import { scrapeEverySecond, type Scrapes } from './scraper.js';

const modes = ['off', 'http', 'scrape'] as const;
type Mode = (typeof modes)[number];

const scale = Number(process.env.BENCH_SCALE ?? 1);
const rounds = Number(process.env.BENCH_ROUNDS ?? 5);
const chosen = (process.env.BENCH_MODES ?? modes.join(',')).split(',') as Mode[];
for (const mode of chosen) if (!modes.includes(mode)) throw new Error(`BENCH_MODES: unknown mode "${mode}" (expected ${modes.join(', ')})`);
const concurrency = 500;
const workflows = Math.max(500, Math.round(10_000 * scale));

const handlers = await noOpHandlers();
const definitions = [validateDefinition(tradingPipeline)];

interface RunResult {
  readonly perSecond: number;
  readonly cpuPerStepUs: number;
  readonly scrapes?: Scrapes;
}

async function run(mode: Mode): Promise<RunResult> {
  const dir = mkdtempSync(join(tmpdir(), 'cadenza-bench-http-'));
  const store = await openStore(`sqlite:${join(dir, 'store.db')}`);
  const registry = await AgentRegistry.open({ store });
  for (const [capability, actions] of handlers) await registry.register({ id: `no-op-${capability}`, capabilities: [capability], transport: inProcessTransport(actions) });
  const runtime = await SagaRuntime.start({ store, registry, maxInFlight: concurrency });
  const api = mode === 'off' ? undefined : await startApiServer({ store, engine: { runtime, registry, definitions } });
  const scraper = api && mode === 'scrape' ? scrapeEverySecond(api.url) : undefined;
  await scraper?.first;
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  await Promise.all(
    Array.from({ length: workflows }, async (_, i) => {
      const { workflowId } = await runtime.startWorkflow(tradingPipeline, benchInput, { workflowId: `bench-${i}` });
      const state = await runtime.waitForEnd(workflowId);
      if (state.status !== 'completed') throw new Error(`workflow ${workflowId} ended ${state.status}`);
    }),
  );
  const elapsedMs = performance.now() - started;
  const cpu = process.cpuUsage(cpuBefore);
  const scrapes = await scraper?.stop();
  if (scrapes && scrapes.count === 0 && elapsedMs > 3000) throw new Error('/metrics was never scraped');
  await api?.close();
  await runtime.stop();
  await registry.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
  return { perSecond: workflows / (elapsedMs / 1000), cpuPerStepUs: (cpu.user + cpu.system) / (workflows * tradingPipeline.steps.length), ...(scrapes ? { scrapes } : {}) };
}

const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length === 0 ? 0 : sorted.length % 2 === 1 ? (sorted[middle] as number) : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
};
const round = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;

const loadBefore = loadavg();
// Warm up the JIT and the file system once, unmeasured.
await run(chosen.includes('scrape') ? 'scrape' : chosen[0]!);
const results = new Map<Mode, RunResult[]>(chosen.map((mode) => [mode, []]));
for (let r = 0; r < rounds; r++) {
  for (let i = 0; i < chosen.length; i++) {
    const mode = chosen[(i + r) % chosen.length]!;
    const result = await run(mode);
    results.get(mode)!.push(result);
    console.log(`round ${r + 1} ${mode.padEnd(6)} ${round(result.perSecond).toString().padStart(8)} workflows/s  cpu/step ${round(result.cpuPerStepUs)} us${result.scrapes ? `  ${result.scrapes.count} scrapes, median ${round(median(result.scrapes.wallMs))} ms` : ''}  load ${round(loadavg()[0]!, 2)}`);
  }
}
const loadAfter = loadavg();

const figures: Record<string, { value: number; unit: string }> = {};
for (const [mode, runs] of results) {
  figures[`workflows.${mode}`] = { value: round(median(runs.map((r) => r.perSecond))), unit: 'workflows/s' };
  figures[`cpu_per_step.${mode}.us`] = { value: round(median(runs.map((r) => r.cpuPerStepUs))), unit: 'us' };
}
const off = figures['workflows.off']?.value;
for (const mode of ['http', 'scrape'] as const) {
  const value = figures[`workflows.${mode}`]?.value;
  if (off !== undefined && value !== undefined) figures[`overhead.${mode}`] = { value: round((1 - value / off) * 100), unit: '%' };
}
const allScrapes = (results.get('scrape') ?? []).flatMap((r) => (r.scrapes ? [r.scrapes] : []));
if (allScrapes.length > 0) {
  figures['scrape.wall.p50'] = { value: round(median(allScrapes.flatMap((s) => s.wallMs)), 2), unit: 'ms' };
  figures['scrape.bytes'] = { value: allScrapes.at(-1)!.bytes, unit: 'bytes' };
}
figures['load.before'] = { value: round(loadBefore[0]!, 2), unit: 'load1' };
figures['load.after'] = { value: round(loadAfter[0]!, 2), unit: 'load1' };
console.log(`(${workflows} workflows at ${concurrency} in flight per run, ${rounds} rounds, medians; load average ${loadBefore.map((l) => round(l, 2)).join(' ')} before, ${loadAfter.map((l) => round(l, 2)).join(' ')} after)`);
console.log(JSON.stringify({ bench: 'http', results: figures }));
