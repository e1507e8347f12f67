/**
 * The `cadenza` command line. Commands are registered from their own modules (see
 * commands/index.ts); this file only wires commander, global options, exit codes and the one-line
 * error report on stderr.
 */
import { Command, CommanderError, Option } from 'commander';
import { assertWorkflowId, InvalidWorkflowIdError } from '../saga/stream/names.js';
import { commandModules } from './commands/index.js';
import { CliError, ExitCode } from './context.js';

export async function buildProgram(): Promise<Command> {
  const program = new Command('cadenza')
    .description('cadenza: an event-sourced saga engine')
    .addOption(new Option('--store <uri>', 'event store: sqlite:<path>, memory:, esdb://host:2113?tls=false').env('CADENZA_STORE'))
    .option('--json', 'print exactly one JSON document on stdout')
    .option('-v, --verbose', 'structured logs on stderr')
    .enablePositionalOptions(false)
    .exitOverride()
    .configureOutput({ writeErr: (text) => process.stderr.write(text) })
    .hook('preAction', (_program, action) => checkWorkflowIds(action));
  for (const load of commandModules) (await load()).register(program);
  return program;
}

/**
 * Every `<workflowId>` argument and `--workflow-id` option, checked before the command runs: an
 * invalid id is bad input (exit 2), said before a store is opened, and in the id rule's own words
 * rather than as a store error about a stream name.
 */
function checkWorkflowIds(action: Command): void {
  const ids: unknown[] = [];
  action.registeredArguments.forEach((argument, index) => {
    if (argument.name() === 'workflowId') ids.push(action.processedArgs[index]);
  });
  ids.push(action.getOptionValue('workflowId'));
  for (const id of ids) {
    if (typeof id !== 'string') continue;
    try {
      assertWorkflowId(id);
    } catch (error) {
      if (error instanceof InvalidWorkflowIdError) throw new CliError(error.message, ExitCode.Usage);
      throw error;
    }
  }
}

/**
 * A reader that goes away (`cadenza history <id> | head`) is the end of the output, not a failure:
 * exit 0 at once and quietly, as Unix tools do on a broken pipe. Other write errors are reported.
 * Called by bin.js: it concerns the process, not one run of `main` (tests call `main` in-process).
 */
export function endQuietlyOnBrokenPipe(): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EPIPE') process.exit(ExitCode.Ok);
      if (stream !== process.stderr) process.stderr.write(`cadenza: cannot write the output: ${error.message}\n`);
      process.exit(ExitCode.Failure);
    });
  }
}

export async function main(argv: readonly string[]): Promise<number> {
  const program = await buildProgram();
  try {
    await program.parseAsync([...argv]);
    return ExitCode.Ok;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version are "errors" to commander; they exit 0.
      return error.exitCode === 0 ? ExitCode.Ok : ExitCode.Usage;
    }
    const exitCode = error instanceof CliError ? error.exitCode : ExitCode.Failure;
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`cadenza: ${message.split('\n')[0]}\n`);
    if (process.env.CADENZA_DEBUG) process.stderr.write(`${error instanceof Error ? error.stack : ''}\n`);
    return exitCode;
  }
}
