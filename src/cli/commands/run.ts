/**
 * `cadenza run <name|file> --input <json|@file> [--config <file>] [--no-wait]`: start one workflow
 * and follow it to the end with a progress bar, hosting the config's agents in this process; with
 * `--no-wait`, only append the start for a running worker to carry out.
 *
 * The workflow is a JSON definition file, a definition of the config named by its name (the highest
 * version), or a shipped saga (`trading` / `trading-pipeline`, whose simulated agents are used
 * when no config is given). Everything is checked before the store is opened: nothing is written
 * for bad input.
 */
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import type { z } from 'zod';
import { shippedSagas, tradingInputSchema } from '../../../sagas/index.js';
import { tradingConfig } from '../../../sagas/trading/config.js';
import { statusView } from '../../saga/status-view.js';
import { InvalidWorkflowIdError, appendStart as appendWorkflowStart, assertWorkflowId } from '../../saga/stream/index.js';
import { WrongExpectedVersionError } from '../../store/errors.js';
import type { EventStore } from '../../store/port.js';
import { CommandRejectedError } from '../../saga/triggers.js';
import type { Json } from '../../workflow/json.js';
import { hasPath } from '../../workflow/mapping.js';
import type { WorkflowDefinition } from '../../workflow/definition.js';
import { DefinitionError } from '../../workflow/validate.js';
import { loadDefinitionFile } from '../../engine/definition-file.js';
import { Worker, type WorkerConfig } from '../../worker/index.js';
import { configOf, loadCliConfig } from '../config.js';
import { CliError, ExitCode, createLogger, printJson, withStore, type GlobalOptions } from '../context.js';
import { integer, jsonArgument, probability } from '../options.js';
import { progressBar } from '../progress.js';

/** Short names of shipped sagas. */
const aliases: Readonly<Record<string, string>> = { trading: 'trading-pipeline' };

/** Input schemas of the shipped sagas: bad input is refused before anything is written. */
const inputSchemas: Readonly<Record<string, z.ZodType>> = { 'trading-pipeline': tradingInputSchema };

interface RunOptions {
  input: unknown;
  config?: string;
  wait: boolean;
  workflowId?: string;
  priority?: number;
  seed: number;
  failureRate: number;
  rejectionRate: number;
  postTradeFailureRate: number;
  latency: number;
}

export function register(program: Command): void {
  program
    .command('run')
    .description('start one workflow (a JSON definition file, a config definition or a shipped saga) and follow it to the end')
    .argument('<saga>', `a JSON definition file, a definition name from --config, or a shipped saga (${[...Object.keys(aliases), ...Object.keys(shippedSagas)].join(', ')})`)
    .requiredOption('-i, --input <json>', 'workflow input as JSON, or @file.json', jsonArgument)
    .option('-c, --config <file>', 'worker config (cadenza.config.mjs): its agents run the workflow here')
    .option('--no-wait', 'append the start and return; a running worker carries the workflow out')
    .option('--workflow-id <id>', 'workflow id (default: a new UUID)')
    .option('--priority <n>', 'admission order in the backlog when no slot is free, higher first (-100..100, default 0)', integer(-100, 100))
    .option('--seed <n>', 'trading saga without --config: seed of the simulated agents', integer(0), 1)
    .option('--failure-rate <p>', 'trading saga without --config: probability of a transient agent failure', probability, 0.05)
    .option('--rejection-rate <p>', 'trading saga without --config: probability that compliance rejects the trade', probability, 0)
    .option('--post-trade-failure-rate <p>', 'trading saga without --config: probability that the post-trade check fails after execution', probability, 0)
    .option('--latency <ms>', 'trading saga without --config: mean simulated agent latency in ms', integer(0, 60_000), 20)
    .action(async (saga: string, options: RunOptions, command: Command) => {
      const globals = command.optsWithGlobals<GlobalOptions>();
      const loaded = options.config === undefined ? undefined : await loadCliConfig(options.config);
      const definition = await resolveDefinition(saga, loaded);
      const input = checkedInput(definition, options.input);
      const store = globals.store ?? loaded?.store;
      const storeOptions = { ...globals, ...(store === undefined ? {} : { store }) };
      if (!options.wait) {
        const workflowId = options.workflowId ?? randomUUID();
        checkedWorkflowId(workflowId);
        await withStore(storeOptions, (opened) => appendStart(opened, definition, input, workflowId, options.priority));
        if (globals.json) printJson({ workflowId, name: definition.name, version: definition.version, priority: options.priority ?? 0, status: 'queued' });
        else process.stderr.write(`started ${definition.name} as ${workflowId} (queued, priority ${options.priority ?? 0}: a worker hosting it admits it)\n`);
        return;
      }
      const config = await hostConfig(definition, loaded, options);
      const view = await withStore(storeOptions, async (opened) => {
        const worker = await Worker.start({ config, store: opened, logger: createLogger(globals), leases: 'guest' });
        try {
          const { workflowId } = await start(worker, definition, input, { ...(options.workflowId === undefined ? {} : { workflowId: options.workflowId }), ...(options.priority === undefined ? {} : { priority: options.priority }) });
          if (!globals.json) process.stderr.write(`started ${definition.name} as ${workflowId}\n`);
          const bar = progressBar(definition.steps.length, `${workflowId} |{bar}| {value}/{total} steps | {status}`);
          const watching = worker.runtime.transitions$.subscribe(({ workflowId: id, state }) => {
            if (id !== workflowId) return;
            bar.update(state.status === 'idle' ? 0 : state.settledSteps, { status: state.status });
          });
          const state = await worker.engine.wait(workflowId, { orPaused: true });
          watching.unsubscribe();
          bar.stop();
          return statusView(state, Date.now()) ?? undefined;
        } finally {
          await worker.drain('run finished');
        }
      });
      if (!view) throw new CliError('The workflow did not start');
      if (globals.json) printJson(view);
      else process.stdout.write(`${view.workflowId} ${view.status} (${view.steps.succeeded}/${view.steps.total} steps succeeded${view.compensation ? `, compensated: ${view.compensation.compensated.join(', ') || 'none'}` : ''})\n`);
      if (view.status !== 'completed') {
        const why = view.compensation?.reason ?? view.lastError?.message ?? view.status;
        throw new CliError(`workflow ${view.workflowId} ended ${view.status}: ${why}`, ExitCode.WorkflowNotCompleted);
      }
    });
}

/** A path to an existing file is a definition file; anything else a name (config first, then shipped). */
async function resolveDefinition(saga: string, config: WorkerConfig | undefined): Promise<WorkflowDefinition> {
  if (saga.endsWith('.json') || existsSync(saga)) {
    try {
      return await loadDefinitionFile(saga);
    } catch (error) {
      if (error instanceof DefinitionError) throw new CliError(error.message, ExitCode.Usage);
      throw error;
    }
  }
  const hosted = config?.definitions.filter((d) => d.name === saga).sort((a, b) => b.version - a.version)[0];
  if (hosted) return hosted;
  const shipped = shippedSagas[aliases[saga] ?? saga];
  if (shipped) return shipped;
  const known = [...new Set([...(config?.definitions.map((d) => d.name) ?? []), ...Object.keys(shippedSagas), ...Object.keys(aliases)])];
  throw new CliError(`Unknown saga "${saga}" (known: ${known.join(', ')}; or give a JSON definition file)`, ExitCode.NotFound);
}

function checkedInput(definition: WorkflowDefinition, raw: unknown): Json {
  const schema = inputSchemas[definition.name];
  const parsed = schema ? schema.safeParse(raw) : { success: true as const, data: raw };
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new CliError(`Invalid input for ${definition.name}: ${issue?.path.join('.') || '(input)'}: ${issue?.message ?? 'invalid'}`, ExitCode.Usage);
  }
  const input = parsed.data as Json;
  const missing = definition.input.required.filter((path) => !hasPath(input, path));
  if (missing.length > 0) throw new CliError(`Invalid input for ${definition.name}: ${missing[0]}: required`, ExitCode.Usage);
  return input;
}

/**
 * What this process hosts to follow the workflow: the config (plus the definition run, if it is not
 * the config's), or for the trading saga without a config its simulated agents. A workflow of
 * anything else needs the agents of a config, or `--no-wait` and a worker.
 */
async function hostConfig(definition: WorkflowDefinition, config: WorkerConfig | undefined, options: RunOptions): Promise<WorkerConfig> {
  if (config) {
    const hosted = config.definitions.some((d) => d.name === definition.name && d.version === definition.version);
    return hosted ? config : { ...config, definitions: [...config.definitions, definition] };
  }
  if (definition === shippedSagas[definition.name] && definition.name === 'trading-pipeline') {
    const trading = tradingConfig({ seed: options.seed, failureRate: options.failureRate, rejectionRate: options.rejectionRate, postTradeFailureRate: options.postTradeFailureRate, latencyMs: options.latency });
    return configOf(trading.config, 'the trading config');
  }
  throw new CliError(`run ${definition.name} needs --config <file> with its agents (or --no-wait, to leave it to a running worker)`, ExitCode.Usage);
}

async function start(worker: Worker, definition: WorkflowDefinition, input: Json, options: { workflowId?: string; priority?: number }): Promise<{ workflowId: string }> {
  try {
    return await worker.engine.start(definition, input, options);
  } catch (error) {
    if (error instanceof CommandRejectedError) throw new CliError(error.message, ExitCode.Usage);
    throw error;
  }
}

/**
 * `--no-wait`: the start decided and appended without a runtime (a runtime hosting the definition
 * would own its workflows and re-send the calls in flight of others, which are the running worker's).
 * It is stored queued, and the owning worker admits it, by priority then age, as its slots allow.
 */
async function appendStart(store: EventStore, definition: WorkflowDefinition, input: Json, workflowId: string, priority: number | undefined): Promise<void> {
  try {
    await appendWorkflowStart(store, workflowId, definition, input, priority === undefined ? {} : { priority });
  } catch (error) {
    if (error instanceof CommandRejectedError) throw new CliError(error.message, ExitCode.Usage);
    if (error instanceof WrongExpectedVersionError) throw new CliError(`Workflow "${workflowId}" already exists: choose another --workflow-id`, ExitCode.Usage);
    throw error;
  }
}

function checkedWorkflowId(workflowId: string): void {
  try {
    assertWorkflowId(workflowId);
  } catch (error) {
    if (error instanceof InvalidWorkflowIdError) throw new CliError(`--workflow-id: ${error.message}`, ExitCode.Usage);
    throw error;
  }
}
