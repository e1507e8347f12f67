/**
 * `cadenza demo`: a batch of trading workflows on the embedded store (or any --store) with
 * simulated agents, a progress bar, and a summary that shows a compensated rollback. Its agents are
 * the trading saga's config (sagas/trading/config.ts), hosted for the demo's run only.
 *
 * A demo registers agents and drives workflows, so it refuses a store that holds workflows of other
 * definitions than the shipped trading pipeline (a user's store) unless `--force` says so.
 */
import type { Command } from 'commander';
import { tradingConfig } from '../../../sagas/trading/config.js';
import { tradingPipeline, type TradingInput } from '../../../sagas/trading/definition.js';
import { WORKFLOW_STREAM_PREFIX, loadDefinition, workflowStream } from '../../saga/stream/index.js';
import { definitionHash } from '../../workflow/hash.js';
import { isTerminal, type ActiveWorkflowState, type TerminalStatus } from '../../saga/state.js';
import type { EventStore } from '../../store/port.js';
import { Worker } from '../../worker/index.js';
import type { CadenzaConfigInput } from '../../worker/config.js';
import { startRemoteTradingAgents } from './demo-remote.js';
import { configOf } from '../config.js';
import { CliError, ExitCode, createLogger, printJson, withStore, type GlobalOptions } from '../context.js';
import { integer, probability } from '../options.js';
import { progressBar } from '../progress.js';

interface DemoOptions {
  count: number;
  failureRate: number;
  rejectionRate: number;
  postTradeFailureRate: number;
  seed: number;
  latency: number;
  concurrency: number;
  force?: boolean;
  remote?: boolean;
}

export interface DemoSummary {
  readonly total: number;
  readonly completed: number;
  readonly compensated: number;
  readonly failed: number;
  readonly compensationFailed: number;
  readonly cancelled: number;
  readonly durationMs: number;
  readonly workflowsPerSecond: number;
  readonly seed: number;
  readonly workflowIds: Record<TerminalStatus, string[]>;
  /** With --remote: the agent processes, where each listened. */
  readonly remoteAgents?: readonly { readonly id: string; readonly url: string }[];
  /** One compensated workflow: why, and the steps rolled back in the order they were. */
  readonly compensatedExample?: { readonly workflowId: string; readonly reason: string; readonly rolledBack: readonly { stepId: string; action: string }[] };
}

const symbols = ['ACME', 'GLOBX', 'INITECH', 'UMBRL', 'STARK', 'WAYNE', 'TYRELL', 'CYBER'];

export function register(program: Command): void {
  program
    .command('demo')
    .description('run a batch of trading workflows with simulated agents and summarise them')
    .option('-n, --count <n>', 'workflows to run', integer(1, 1_000_000), 20)
    .option('--failure-rate <p>', 'probability that one agent call fails transiently (retried, fails over)', probability, 0.05)
    .option('--rejection-rate <p>', 'probability that compliance rejects a trade (compensated)', probability, 0.1)
    .option('--post-trade-failure-rate <p>', 'probability that the post-trade check fails after execution (order reversed)', probability, 0.05)
    .option('--seed <n>', 'seed of every simulated choice: the same seed gives the same outcomes', integer(0), 1)
    .option('--latency <ms>', 'mean simulated agent latency in ms', integer(0, 60_000), 20)
    .option('--concurrency <n>', 'workflows in flight at once (more wait in the backlog)', integer(1, 100_000), 50)
    .option('--force', 'run even on a store that holds workflows the demo did not start')
    .option('--remote', 'run each trading agent as its own A2A process on a loopback port (stopped at the end)')
    .action(async (options: DemoOptions, command: Command) => {
      const globals = command.optsWithGlobals<GlobalOptions>();
      const summary = await withStore(globals, (store) => runDemo(store, options, globals));
      if (globals.json) printJson(summary);
      else process.stdout.write(formatSummary(summary));
    });
}

export async function runDemo(store: EventStore, options: DemoOptions, globals: GlobalOptions): Promise<DemoSummary> {
  if (!options.force) await assertDemoStore(store);
  const simulation = {
    seed: options.seed,
    failureRate: options.failureRate,
    rejectionRate: options.rejectionRate,
    postTradeFailureRate: options.postTradeFailureRate,
    latencyMs: options.latency,
  };
  const remote = options.remote ? await startRemoteTradingAgents(simulation) : undefined;
  try {
    if (remote && !globals.json) for (const agent of remote.agents) process.stdout.write(`agent ${agent.id} listening on ${agent.url} (A2A)\n`);
    const config = remote
      ? { definitions: [tradingPipeline], remoteAgents: remote.agents.map((agent) => ({ id: agent.id, url: agent.url, protocol: 'a2a' as const })) }
      : tradingConfig(simulation).config;
    const summary = await runWorkflows(store, options, globals, config);
    return remote ? { ...summary, remoteAgents: remote.agents } : summary;
  } finally {
    await remote?.stop();
    if (remote && !globals.json) process.stdout.write(`stopped ${remote.agents.length} agent processes\n`);
  }
}

async function runWorkflows(store: EventStore, options: DemoOptions, globals: GlobalOptions, config: CadenzaConfigInput): Promise<DemoSummary> {
  const worker = await Worker.start({ config: await configOf({ ...config, maxInFlight: options.concurrency }, 'the trading config'), store, logger: createLogger(globals) });
  const bar = progressBar(options.count, 'trading workflows |{bar}| {value}/{total} ended | {completed} completed, {compensated} compensated, {other} other | {inFlight} running, {backlog} waiting', { completed: 0, compensated: 0, other: 0, inFlight: 0, backlog: options.count });
  const counts = { completed: 0, compensated: 0, other: 0 };
  const workflowIds: Record<TerminalStatus, string[]> = { completed: [], compensated: [], failed: [], compensationFailed: [], cancelled: [], resolved: [] };
  const started = Date.now();
  try {
    // Every start is submitted at once: the runtime's backlog keeps `--concurrency` in flight and
    // the rest waiting, which the progress bar shows.
    const ends = Array.from({ length: options.count }, async (_, i): Promise<ActiveWorkflowState> => {
      const input: TradingInput = { symbol: symbols[i % symbols.length] ?? 'ACME', side: i % 3 === 0 ? 'sell' : 'buy', quantity: 10 + ((i * 37) % 990), account: `acct-${(i % 5) + 1}` };
      // Ids derived from the seed and index: a rerun with the same seed is easy to compare.
      const { workflowId } = await worker.engine.start(tradingPipeline, input, { workflowId: `demo-${options.seed}-${started.toString(36)}-${i}` });
      const state = await worker.engine.wait(workflowId);
      if (state.status === 'completed') counts.completed++;
      else if (state.status === 'compensated') counts.compensated++;
      else counts.other++;
      const { inFlight, backlog } = worker.runtime.stats();
      bar.update(counts.completed + counts.compensated + counts.other, { ...counts, inFlight, backlog });
      return state;
    });
    const states = await Promise.all(ends);
    const durationMs = Date.now() - started;
    for (const state of states) if (isTerminal(state.status)) workflowIds[state.status as TerminalStatus].push(state.workflowId);
    const example = workflowIds.compensated[0];
    return {
      total: options.count,
      completed: workflowIds.completed.length,
      compensated: workflowIds.compensated.length,
      failed: workflowIds.failed.length,
      compensationFailed: workflowIds.compensationFailed.length,
      cancelled: workflowIds.cancelled.length,
      durationMs,
      workflowsPerSecond: Math.round((options.count / Math.max(1, durationMs)) * 1000 * 10) / 10,
      seed: options.seed,
      workflowIds,
      ...(example ? { compensatedExample: await describeRollback(store, example, states) } : {}),
    };
  } finally {
    bar.stop();
    await worker.drain('demo finished');
  }
}

/**
 * Refuses a store holding a workflow of any definition but the shipped trading pipeline (the exact
 * one: same hash): someone's own workflows, whose store the demo would fill with its agents.
 */
async function assertDemoStore(store: EventStore): Promise<void> {
  const shipped = definitionHash(tradingPipeline);
  for await (const event of store.readAll({ filter: { streamNamePrefix: [WORKFLOW_STREAM_PREFIX] } })) {
    if (event.type !== 'WorkflowStarted') continue;
    const { workflowId, definition, definitionHash: hash } = event.data as { workflowId: string; definition?: { name: string }; definitionHash: string };
    if (hash !== shipped) {
      const name = definition?.name ?? (await loadDefinition(store, hash).catch(() => undefined))?.name ?? hash;
      throw new CliError(`This store holds workflows that are not the demo's (e.g. ${name} ${workflowId}): use another --store, or --force to run the demo here anyway`, ExitCode.Usage);
    }
  }
}

async function describeRollback(store: EventStore, workflowId: string, states: readonly ActiveWorkflowState[]): Promise<NonNullable<DemoSummary['compensatedExample']>> {
  const state = states.find((s) => s.workflowId === workflowId);
  const rolledBack: { stepId: string; action: string }[] = [];
  for await (const event of store.readStream(workflowStream(workflowId))) {
    if (event.type !== 'CompensationSucceeded') continue;
    const stepId = String((event.data as { stepId?: unknown }).stepId);
    const action = state?.definition.steps.find((step) => step.id === stepId)?.compensation?.action ?? '';
    rolledBack.push({ stepId, action });
  }
  return { workflowId, reason: state?.compensation?.reason ?? '', rolledBack };
}

function formatSummary(summary: DemoSummary): string {
  const lines = [
    `Ran ${summary.total} trading workflows in ${(summary.durationMs / 1000).toFixed(2)} s (${summary.workflowsPerSecond}/s, seed ${summary.seed}):`,
    `  completed           ${summary.completed}`,
    `  compensated         ${summary.compensated}`,
    `  failed              ${summary.failed}`,
    `  compensation failed ${summary.compensationFailed}`,
  ];
  const example = summary.compensatedExample;
  if (example) {
    lines.push('', `Compensated example: ${example.workflowId}`, `  why: ${example.reason}`, '  rolled back, in order:');
    for (const step of example.rolledBack) lines.push(`    - ${step.stepId} (${step.action})`);
    lines.push('', `See every event: cadenza history ${example.workflowId}`);
  }
  return `${lines.join('\n')}\n`;
}
