/**
 * The `cadenza` command line. Commands are registered from their own modules; this file only
 * wires commander, the exit codes and the one-line error reporting.
 */
import { Command, CommanderError } from 'commander';

export async function main(argv: readonly string[]): Promise<number> {
  const program = new Command('cadenza')
    .description('cadenza: an event-sourced saga engine')
    .exitOverride()
    .showHelpAfterError();
  try {
    await program.parseAsync([...argv]);
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode;
    process.stderr.write(`cadenza: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
}
