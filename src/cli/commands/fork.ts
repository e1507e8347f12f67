/**
 * `cadenza fork <id> --from <revision>`: a new workflow that starts from the state at that revision
 * (completed steps keep their outputs) and runs the rest again, linked to the original by its
 * correlation id. With `--follow --config <file>`, this process also hosts the config's agents
 * until the fork ends (`--follow` needs the agents: the CLI registers none of its own).
 */
import type { Command } from 'commander';
import { ForkError, forkWorkflow } from '../../operations/fork.js';
import { statusView } from '../../saga/status-view.js';
import { InvalidWorkflowIdError, assertWorkflowId } from '../../saga/stream/names.js';
import { StreamNotFoundError, WrongExpectedVersionError } from '../../store/errors.js';
import { CliError, ExitCode, createLogger, printJson, withStore, type GlobalOptions } from '../context.js';
import { Worker } from '../../worker/index.js';
import { loadCliConfig } from '../config.js';
import { followToEnd } from '../../operations/follow.js';
import { progressBar } from '../progress.js';

interface ForkOptions {
  from: string;
  id?: string;
  follow?: boolean;
  config?: string;
}

export function register(program: Command): void {
  program
    .command('fork')
    .description('start a new workflow from the state of another at a revision; completed steps keep their outputs')
    .argument('<workflowId>')
    .requiredOption('--from <revision>', 'stream revision of the original to start from')
    .option('--id <workflowId>', 'id of the new workflow (default: <id>-fork-<revision>-<random>)')
    .option('--follow', 'run the engine here, with the agents of --config, until the new workflow ends (progress on stderr)')
    .option('-c, --config <file>', 'worker config whose agents run the fork (needed by --follow)')
    .action(async (workflowId: string, options: ForkOptions, command: Command) => {
      const globals = command.optsWithGlobals<GlobalOptions>();
      if (!/^\d+$/.test(options.from)) throw new CliError(`--from: expected a revision (0, 1, ...), got "${options.from}"`, ExitCode.Usage);
      if (options.id !== undefined) {
        try {
          assertWorkflowId(options.id);
        } catch (error) {
          if (error instanceof InvalidWorkflowIdError) throw new CliError(`--id: ${error.message}`, ExitCode.Usage);
          throw error;
        }
      }
      if (options.follow && options.config === undefined) throw new CliError('--follow needs --config <file>: the agents that run the fork', ExitCode.Usage);
      const config = options.follow && options.config !== undefined ? await loadCliConfig(options.config) : undefined;
      const storeUri = globals.store ?? config?.store;
      const result = await withStore({ ...globals, ...(storeUri === undefined ? {} : { store: storeUri }) }, async (store) => {
        let plan;
        try {
          plan = await forkWorkflow(store, workflowId, BigInt(options.from), options.id === undefined ? {} : { workflowId: options.id });
        } catch (error) {
          if (error instanceof StreamNotFoundError) throw new CliError(`Unknown workflow "${workflowId}"`, ExitCode.NotFound);
          if (error instanceof ForkError) throw new CliError(error.message, ExitCode.Usage);
          if (error instanceof WrongExpectedVersionError) throw new CliError(`Workflow "${options.id ?? ''}" already exists: choose another --id`, ExitCode.Usage);
          throw error;
        }
        if (!globals.json) process.stderr.write(`forked ${workflowId}@${options.from} as ${plan.workflowId} (kept: ${plan.reused.join(', ') || 'none'})\n`);
        let final;
        if (config) {
          const engine = await Worker.start({ config, store, logger: createLogger(globals), leases: 'guest' });
          try {
            // This process appended the fork's StepScheduled events, so it makes those calls now
            // rather than leaving them to time out.
            await engine.runtime.adopt(plan.workflowId);
            let bar: ReturnType<typeof progressBar> | undefined;
            const state = await followToEnd(engine.runtime, plan.workflowId, ({ done, total, status }) => {
              bar ??= progressBar(total, `${plan.workflowId} |{bar}| {value}/{total} steps | {status}`);
              bar.update(done, { status });
            });
            bar?.stop();
            final = statusView(state, Date.now());
          } finally {
            await engine.drain('fork finished');
          }
        }
        return { plan, final };
      });
      const { plan, final } = result;
      if (globals.json) {
        printJson({
          workflowId: plan.workflowId,
          forkedFrom: plan.sourceWorkflowId,
          fromRevision: plan.fromRevision,
          correlationId: plan.correlationId,
          reused: plan.reused,
          scheduled: plan.scheduled,
          events: plan.decisions.flat().map((e) => ({ id: e.id, type: e.type })),
          ...(final ? { status: final } : {}),
        });
      } else {
        process.stdout.write(`${plan.workflowId}\n`);
      }
      if (final && final.status !== 'completed') throw new CliError(`workflow ${final.workflowId} ended ${final.status}`, ExitCode.WorkflowNotCompleted);
    });
}
