/**
 * `cadenza run <saga> --input <json|@file>`: start one workflow of a shipped saga with its
 * simulated agents and follow it to the end with a progress bar.
 */
import type { Command } from 'commander';
import type { z } from 'zod';
import { shippedSagas, tradingInputSchema } from '../../../sagas/index.js';
import { statusView } from '../../saga/status-view.js';
import type { Json } from '../../workflow/json.js';
import { CliError, ExitCode, createLogger, printJson, withStore, type GlobalOptions } from '../context.js';
import { startEngine } from '../engine.js';
import { integer, jsonArgument, probability } from '../options.js';
import { progressBar } from '../progress.js';

/** Input schemas of the shipped sagas: bad input is refused before anything is written. */
const inputSchemas: Readonly<Record<string, z.ZodType>> = { 'trading-pipeline': tradingInputSchema };

interface RunOptions {
  input: unknown;
  workflowId?: string;
  seed: number;
  failureRate: number;
  rejectionRate: number;
  postTradeFailureRate: number;
  latency: number;
}

export function register(program: Command): void {
  program
    .command('run')
    .description('start one workflow of a shipped saga and follow it to the end')
    .argument('<saga>', `saga name (${Object.keys(shippedSagas).join(', ')})`)
    .requiredOption('-i, --input <json>', 'workflow input as JSON, or @file.json', jsonArgument)
    .option('--workflow-id <id>', 'workflow id (default: a new UUID)')
    .option('--seed <n>', 'seed of the simulated agents', integer(0), 1)
    .option('--failure-rate <p>', 'probability of a transient agent failure', probability, 0.05)
    .option('--rejection-rate <p>', 'probability that compliance rejects the trade', probability, 0)
    .option('--post-trade-failure-rate <p>', 'probability that the post-trade check fails after execution', probability, 0)
    .option('--latency <ms>', 'mean simulated agent latency in ms', integer(0, 60_000), 20)
    .action(async (sagaName: string, options: RunOptions, command: Command) => {
      const globals = command.optsWithGlobals<GlobalOptions>();
      const definition = shippedSagas[sagaName];
      if (!definition) throw new CliError(`Unknown saga "${sagaName}" (known: ${Object.keys(shippedSagas).join(', ')})`, ExitCode.NotFound);
      const schema = inputSchemas[sagaName];
      const parsed = schema ? schema.safeParse(options.input) : { success: true as const, data: options.input };
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        throw new CliError(`Invalid input for ${sagaName}: ${issue?.path.join('.') || '(input)'}: ${issue?.message ?? 'invalid'}`, ExitCode.Usage);
      }
      const view = await withStore(globals, async (store) => {
        const engine = await startEngine({
          store,
          logger: createLogger(globals),
          seed: options.seed,
          failureRate: options.failureRate,
          rejectionRate: options.rejectionRate,
          postTradeFailureRate: options.postTradeFailureRate,
          latencyMs: options.latency,
          definitions: [definition],
        });
        try {
          const { workflowId } = await engine.start(definition, parsed.data as Json, options.workflowId ? { workflowId: options.workflowId } : {});
          if (!globals.json) process.stderr.write(`started ${sagaName} as ${workflowId}\n`);
          const bar = progressBar(definition.steps.length, `${workflowId} |{bar}| {value}/{total} steps | {status}`);
          const watching = engine.runtime.transitions$.subscribe(({ workflowId: id, state }) => {
            if (id !== workflowId) return;
            bar.update(state.status === 'idle' ? 0 : state.settledSteps, { status: state.status });
          });
          const state = await engine.wait(workflowId, { orPaused: true });
          watching.unsubscribe();
          bar.stop();
          return statusView(state, Date.now());
        } finally {
          await engine.stop();
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
