/** `cadenza retry <id>`: give a paused workflow's failed steps a new round of attempts (see compensate.ts). */
import type { Command } from 'commander';
import { runOperatorCommand } from './compensate.js';

export function register(program: Command): void {
  program
    .command('retry')
    .description("resume a paused workflow: its failed steps get a new round of attempts")
    .argument('<workflowId>')
    .option('--no-wait', 'append the command and return; a running engine carries it out')
    .option('-c, --config <file>', "worker config whose agents carry the workflow on here (without it: the command is appended for a running worker)")
    .action((workflowId: string, options: { wait: boolean }, command: Command) => runOperatorCommand(command, workflowId, { type: 'retry' }, options.wait));
}
