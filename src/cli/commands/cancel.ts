/** `cadenza cancel <id>`: cancel a running or paused workflow; its completed steps are compensated (see compensate.ts). */
import type { Command } from 'commander';
import { runOperatorCommand } from './compensate.js';

export function register(program: Command): void {
  program
    .command('cancel')
    .description('cancel a running or paused workflow: its completed steps are compensated, then it ends cancelled')
    .argument('<workflowId>')
    .option('--reason <text>', 'why (recorded in CompensationStarted and WorkflowCancelled)')
    .option('--no-wait', 'append the command and return; a running engine carries it out')
    .option('-c, --config <file>', "worker config whose agents carry the workflow on here (without it: the command is appended for a running worker)")
    .action((workflowId: string, options: { reason?: string; wait: boolean }, command: Command) =>
      runOperatorCommand(command, workflowId, { type: 'cancel', ...(options.reason === undefined ? {} : { reason: options.reason }) }, options.wait),
    );
}
