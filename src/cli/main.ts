/**
 * The `cadenza` command line. Commands are registered from their own modules (see
 * commands/index.ts); this file only wires commander, global options, exit codes and the one-line
 * error report on stderr.
 */
import { Command, CommanderError, Option } from 'commander';
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
    .configureOutput({ writeErr: (text) => process.stderr.write(text) });
  for (const load of commandModules) (await load()).register(program);
  return program;
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
