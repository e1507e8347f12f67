/**
 * A2A benchmark: what a remote agent costs next to an in-process one. The trading saga's no-op
 * agents run in one child process (`cadenza agent serve`), reached over A2A (JSON-RPC with
 * streaming) and over the plain HTTP transport; the same handlers in-process are the baseline.
 * Measured: workflows/s at 50 in flight (memory store, so the store is not what is measured), and
 * the latency of one call made alone. Prints figures, then one JSON line:
 *   {"bench":"a2a","results":{"workflows.c50.a2a":{"value":N,"unit":"workflows/s"},...}}
 *
 *   npm run bench:a2a            (BENCH_SCALE=0.2 for a quick run)
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { RemoteA2aAgent } from '../../src/agents/a2a/index.js';
import { AgentRegistry, httpTransport, inProcessTransport, type AgentDefinition, type AgentTransport } from '../../src/agents/index.js';
import { SagaRuntime } from '../../src/saga/runtime/index.js';
import { openStore } from '../../src/store/open.js';
import { tradingPipeline } from '../../sagas/trading/definition.js';
import { benchInput, noOpHandlers } from './no-op-agents.js';
import { percentile } from './statistics.js';

const scale = Number(process.env.BENCH_SCALE ?? 1);
const round = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;
const capabilities = [...new Set(tradingPipeline.steps.map((step) => step.capability))];

/** The no-op agent process; resolves with its base URL once it listens. */
function startAgentProcess(): Promise<{ url: string; stop: () => Promise<void> }> {
  const bin = fileURLToPath(new URL('../../src/cli/bin.js', import.meta.url));
  const module = fileURLToPath(new URL('./no-op-agent.ts', import.meta.url));
  const child = spawn(process.execPath, [bin, '--json', 'agent', 'serve', module], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error('the no-op agent did not start within 60 s')), 60_000);
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (!out.includes('\n')) return;
      clearTimeout(timer);
      resolve({ url: (JSON.parse(out.split('\n')[0] as string) as { url: string }).url, stop: () => (child.kill('SIGTERM'), exited) });
    });
    child.once('exit', (code) => reject(new Error(`the no-op agent exited (${String(code)})`)));
  });
}

async function workflowsPerSecond(agents: AgentDefinition[], workflows: number): Promise<number> {
  const store = await openStore('memory:');
  const registry = await AgentRegistry.open({ store });
  for (const agent of agents) await registry.register(agent);
  const runtime = await SagaRuntime.start({ store, registry, maxInFlight: 50 });
  const started = performance.now();
  await Promise.all(
    Array.from({ length: workflows }, async (_, i) => {
      const { workflowId } = await runtime.startWorkflow(tradingPipeline, benchInput, { workflowId: `bench-a2a-${i}` });
      const state = await runtime.waitForEnd(workflowId);
      if (state.status !== 'completed') throw new Error(`workflow ${workflowId} ended ${state.status}`);
    }),
  );
  const elapsed = performance.now() - started;
  await runtime.stop();
  await registry.close();
  await store.close();
  return workflows / (elapsed / 1000);
}

/** One call at a time: the latency a call adds, in ms (p50, p99). */
async function callLatency(transport: AgentTransport, calls: number): Promise<{ p50: number; p99: number }> {
  const step = tradingPipeline.steps[0] as (typeof tradingPipeline.steps)[number];
  const signal = new AbortController().signal;
  const times: number[] = [];
  for (let i = 0; i < calls; i++) {
    const started = performance.now();
    const result = await transport.invoke({ workflowId: 'bench', stepId: step.id, attempt: 1, action: step.action, input: benchInput, idempotencyKey: `bench:${i}`, deadline: Date.now() + 30_000, kind: 'step' }, { signal });
    if (!result.ok) throw new Error(`call failed: ${result.error.message}`);
    times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  return { p50: percentile(times, 50), p99: percentile(times, 99) };
}

const handlers = await noOpHandlers();
const agent = await startAgentProcess();
try {
  const inProcess = [...handlers].map(([capability, actions]): AgentDefinition => ({ id: `no-op-${capability}`, capabilities: [capability], transport: inProcessTransport(actions) }));
  const remote = new RemoteA2aAgent({ id: 'no-op-a2a', url: agent.url });
  const a2aAgent = await remote.discover();
  if (!a2aAgent) throw new Error('the no-op agent card could not be read');
  const plain: AgentDefinition = { id: 'no-op-http', capabilities, transport: httpTransport({ url: `${agent.url}/call` }) };

  const workflows = Math.max(50, Math.round(500 * scale));
  const calls = Math.max(50, Math.round(500 * scale));
  // Warm up each path (JIT, connections), unmeasured.
  await workflowsPerSecond(inProcess, 50);
  await workflowsPerSecond([a2aAgent], 50);
  await workflowsPerSecond([plain], 50);
  const wfInProcess = await workflowsPerSecond(inProcess, Math.max(500, workflows * 4));
  const wfA2a = await workflowsPerSecond([a2aAgent], workflows);
  const wfHttp = await workflowsPerSecond([plain], workflows);
  const latInProcess = await callLatency(inProcess[0]?.transport as AgentTransport, calls);
  const latA2a = await callLatency(a2aAgent.transport, calls);
  const latHttp = await callLatency(plain.transport, calls);

  console.log(`workflows/s at 50 in flight (${tradingPipeline.steps.length} steps each, memory store): in-process ${round(wfInProcess)}, A2A ${round(wfA2a)}, plain HTTP ${round(wfHttp)}`);
  console.log(`one call alone, p50 / p99 ms: in-process ${round(latInProcess.p50, 3)} / ${round(latInProcess.p99, 3)}, A2A ${round(latA2a.p50, 2)} / ${round(latA2a.p99, 2)}, plain HTTP ${round(latHttp.p50, 2)} / ${round(latHttp.p99, 2)}`);
  console.log(
    JSON.stringify({
      bench: 'a2a',
      results: {
        'workflows.c50.inprocess': { value: round(wfInProcess), unit: 'workflows/s' },
        'workflows.c50.a2a': { value: round(wfA2a), unit: 'workflows/s' },
        'workflows.c50.http': { value: round(wfHttp), unit: 'workflows/s' },
        'call.p50.inprocess': { value: round(latInProcess.p50, 3), unit: 'ms' },
        'call.p99.inprocess': { value: round(latInProcess.p99, 3), unit: 'ms' },
        'call.p50.a2a': { value: round(latA2a.p50, 2), unit: 'ms' },
        'call.p99.a2a': { value: round(latA2a.p99, 2), unit: 'ms' },
        'call.p50.http': { value: round(latHttp.p50, 2), unit: 'ms' },
        'call.p99.http': { value: round(latHttp.p99, 2), unit: 'ms' },
      },
    }),
  );
} finally {
  await agent.stop();
}
