/**
 * `cadenza resolve <id> --note <text>`: record a manual resolution of a workflow whose compensation
 * failed (what was left undone and how it was handled goes in the note). An event,
 * WorkflowResolved; the workflow ends `resolved`. To try the failed compensations again instead, use
 * `cadenza compensate <id>`.
 */
import type { Command } from 'commander';
import { runOperatorCommand } from './compensate.js';

export function register(program: Command): void {
  program
    .command('resolve')
    .description('record a manual resolution of a workflow whose compensation failed, with a note; it ends resolved')
    .argument('<workflowId>')
    .requiredOption('--note <text>', 'what was done by hand (recorded in WorkflowResolved)')
    .action((workflowId: string, options: { note: string }, command: Command) =>
      // Nothing to carry on afterwards: appended directly, whether or not a worker runs.
      runOperatorCommand(command, workflowId, { type: 'resolve', note: options.note }, false),
    );
}
