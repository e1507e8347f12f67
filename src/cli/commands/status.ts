/** `cadenza status <id>`: the workflow's monitoring view, folded from its stream. */
import type { Command } from 'commander';
import { replayWorkflow } from '../../saga/stream/index.js';
import type { WorkflowState } from '../../saga/state.js';
import { statusView, type WorkflowStatusView } from '../../saga/status-view.js';
import { StreamNotFoundError } from '../../store/errors.js';
import type { EventStore } from '../../store/port.js';
import { CliError, ExitCode, printJson, withStore, type GlobalOptions } from '../context.js';

export async function loadWorkflowState(store: EventStore, workflowId: string): Promise<WorkflowState> {
  try {
    return (await replayWorkflow(store, workflowId)).state;
  } catch (error) {
    if (error instanceof StreamNotFoundError) throw new CliError(`Unknown workflow "${workflowId}"`, ExitCode.NotFound);
    throw error;
  }
}

export function register(program: Command): void {
  program
    .command('status')
    .description("a workflow's status, progress and steps")
    .argument('<workflowId>')
    .action(async (workflowId: string, _options: unknown, command: Command) => {
      const globals = command.optsWithGlobals<GlobalOptions>();
      const view = await withStore(globals, async (store) => statusView(await loadWorkflowState(store, workflowId), Date.now()));
      if (!view) throw new CliError(`Unknown workflow "${workflowId}"`, ExitCode.NotFound);
      if (globals.json) printJson(view);
      else process.stdout.write(formatStatus(view));
    });
}

function formatStatus(view: WorkflowStatusView): string {
  const lines = [
    `${view.workflowId}  ${view.name}  ${view.status}  ${view.progress}%  (${view.steps.succeeded}/${view.steps.total} succeeded, ${view.steps.failed} failed, ${view.steps.skipped} skipped)`,
    `started ${view.startedAt}${view.endedAt ? `  ended ${view.endedAt}` : ''}  elapsed ${view.elapsedMs} ms  revision ${view.revision}`,
  ];
  if (view.steps.running.length > 0) lines.push(`running: ${view.steps.running.join(', ')}`);
  if (view.steps.waitingForAgent.length > 0) lines.push(`waiting for an agent: ${view.steps.waitingForAgent.join(', ')}`);
  if (view.lastError) lines.push(`last error: ${view.lastError.stepId ? `${view.lastError.stepId}: ` : ''}${view.lastError.message}`);
  if (view.compensation) lines.push(`compensation (${view.compensation.cause}): ${view.compensation.reason}; compensated ${view.compensation.compensated.join(', ') || 'none'}${view.compensation.failed.length ? `; failed ${view.compensation.failed.join(', ')}` : ''}`);
  lines.push('', 'step                  status            attempts  agent                      compensation');
  for (const step of view.stepDetails) {
    lines.push(`${step.id.padEnd(21)} ${step.status.padEnd(17)} ${String(step.attempts).padEnd(9)} ${(step.agentId ?? '-').padEnd(26)} ${step.compensation ?? '-'}`);
  }
  return `${lines.join('\n')}\n`;
}
