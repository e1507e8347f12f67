/**
 * `cadenza compensate <id>` (roll a running or paused workflow back) and, sharing the same shape,
 * `cadenza retry <id>` (give a paused workflow's failed steps a new round). With `--config`, this
 * process hosts the config's agents and follows the workflow until it ends or pauses again; without
 * one (or with `--no-wait`) the command is only decided and appended, for a running worker to carry
 * on: the CLI never registers agents a workflow did not ask for.
 */
import type { Command } from 'commander';
import { sendDirect, sendThroughRuntime, type OperatorCommand } from '../../operations/commands.js';
import { followToEnd } from '../../operations/follow.js';
import { WorkflowNotFoundError } from '../../saga/runtime/index.js';
import { statusView, type WorkflowStatusView } from '../../saga/status-view.js';
import { CommandRejectedError } from '../../saga/triggers.js';
import { StreamNotFoundError } from '../../store/errors.js';
import type { EventStore } from '../../store/port.js';
import { CliError, ExitCode, createLogger, printJson, withStore, type GlobalOptions } from '../context.js';
import { Worker, type WorkerConfig } from '../../worker/index.js';
import { loadCliConfig } from '../config.js';
import { progressBar } from '../progress.js';

interface OperatorOptions {
  reason?: string;
  wait: boolean;
}

export function register(program: Command): void {
  program
    .command('compensate')
    .description('roll back a running or paused workflow: compensate its completed steps in reverse dependency order')
    .argument('<workflowId>')
    .option('--reason <text>', 'why (recorded in CompensationStarted)')
    .option('--no-wait', 'append the command and return; a running engine carries it out')
    .option('-c, --config <file>', "worker config whose agents carry the workflow on here (without it: the command is appended for a running worker)")
    .action((workflowId: string, options: OperatorOptions, command: Command) =>
      runOperatorCommand(command, workflowId, { type: 'compensate', ...(options.reason === undefined ? {} : { reason: options.reason }) }, options.wait),
    );
}

export async function runOperatorCommand(command: Command, workflowId: string, operatorCommand: OperatorCommand, wait: boolean): Promise<void> {
  const globals = command.optsWithGlobals<GlobalOptions>();
  const configPath = command.opts<{ config?: string }>().config;
  const config = wait && configPath !== undefined ? await loadCliConfig(configPath) : undefined;
  const store = globals.store ?? config?.store;
  const result = await withStore({ ...globals, ...(store === undefined ? {} : { store }) }, (opened) => (config ? viaWorker(opened, config, globals, workflowId, operatorCommand) : direct(opened, workflowId, operatorCommand)));
  if (wait && !config && !globals.json) process.stderr.write('no --config: the command is appended; a running worker hosting this workflow carries it out\n');
  if (globals.json) printJson({ workflowId, command: operatorCommand.type, ...result });
  else if (result.status) process.stdout.write(`${workflowId} ${result.status.status} (${result.status.steps.succeeded}/${result.status.steps.total} steps succeeded)\n`);
  else process.stdout.write(`${workflowId}: appended ${result.events.map((e) => e.type).join(', ')}\n`);
}

interface OperatorResult {
  readonly events: readonly { readonly id: string; readonly type: string }[];
  readonly status?: WorkflowStatusView;
}

async function direct(store: EventStore, workflowId: string, operatorCommand: OperatorCommand): Promise<OperatorResult> {
  try {
    const events = await sendDirect(store, workflowId, operatorCommand);
    return { events: events.map((e) => ({ id: e.id, type: e.type })) };
  } catch (error) {
    throw cliErrorOf(error, workflowId);
  }
}

async function viaWorker(store: EventStore, config: WorkerConfig, globals: GlobalOptions, workflowId: string, operatorCommand: OperatorCommand): Promise<OperatorResult> {
  const engine = await Worker.start({ config, store, logger: createLogger(globals), leases: 'guest' });
  try {
    let events;
    try {
      events = await sendThroughRuntime(engine.runtime, workflowId, operatorCommand);
    } catch (error) {
      throw cliErrorOf(error, workflowId);
    }
    let bar: ReturnType<typeof progressBar> | undefined;
    const final = await followToEnd(engine.runtime, workflowId, ({ done, total, status }) => {
      bar ??= progressBar(total, `${workflowId} |{bar}| {value}/{total} steps | {status}`);
      bar.update(done, { status });
    });
    bar?.stop();
    const status = statusView(final, Date.now());
    return { events: events.map((e) => ({ id: e.id, type: e.type })), ...(status ? { status } : {}) };
  } finally {
    await engine.drain('command finished');
  }
}

function cliErrorOf(error: unknown, workflowId: string): unknown {
  if (error instanceof StreamNotFoundError || error instanceof WorkflowNotFoundError) return new CliError(`Unknown workflow "${workflowId}"`, ExitCode.NotFound);
  if (error instanceof CommandRejectedError) return new CliError(error.message, ExitCode.Failure);
  return error;
}
