/** `cadenza replay <id> [--until <revision|ISO time>] [--step]`: a workflow's state at any point of its history. */
import type { Command } from 'commander';
import { describeTransition, summariseState, type StateSummary } from '../../operations/replay.js';
import { parseReplayUntil, replayWorkflow, type ReplayStep } from '../../saga/stream/index.js';
import { EventParseError } from '../../saga/events.js';
import { StreamNotFoundError } from '../../store/errors.js';
import { CliError, ExitCode, printJson, withStore, type GlobalOptions } from '../context.js';

interface ReplayOptions {
  until?: string;
  step?: boolean;
}

export function register(program: Command): void {
  program
    .command('replay')
    .description("fold a workflow's history to a revision or a time and show its state")
    .argument('<workflowId>')
    .option('--until <revision|time>', 'stop at this stream revision (inclusive) or at the last event recorded at or before this ISO 8601 time')
    .option('--step', 'show each transition as it is applied')
    .action(async (workflowId: string, options: ReplayOptions, command: Command) => {
      const globals = command.optsWithGlobals<GlobalOptions>();
      const until = options.until === undefined ? undefined : parseReplayUntil(options.until);
      if (options.until !== undefined && until === undefined) {
        throw new CliError(`--until: expected a revision (0, 1, ...) or an ISO 8601 time, got "${options.until}"`, ExitCode.Usage);
      }
      const transitions: { revision: bigint; type: string; time: string; status: string; stepId?: string; attempt?: number }[] = [];
      const onStep = (step: ReplayStep): void => {
        if (!options.step) return;
        if (globals.json) transitions.push(transitionRecord(step));
        else process.stdout.write(`${describeTransition(step)}\n`);
      };
      const result = await withStore(globals, async (store) => {
        try {
          return await replayWorkflow(store, workflowId, until, onStep);
        } catch (error) {
          if (error instanceof StreamNotFoundError) throw new CliError(`Unknown workflow "${workflowId}"`, ExitCode.NotFound);
          if (error instanceof EventParseError) throw new CliError(`Cannot replay ${workflowId}: ${error.message}`);
          throw error;
        }
      });
      const summary = summariseState(result.state);
      if (globals.json) {
        printJson({ workflowId, until: options.until ?? null, events: result.events, state: summary, ...(options.step ? { transitions } : {}) });
      } else {
        process.stdout.write(formatSummary(summary, result.events));
      }
    });
}

function transitionRecord(step: ReplayStep) {
  const data = step.event.data as { stepId?: string; attempt?: number };
  return {
    revision: step.recorded.revision,
    type: step.event.type,
    time: step.recorded.created.toISOString(),
    status: step.state.status,
    ...(data.stepId === undefined ? {} : { stepId: data.stepId }),
    ...(data.attempt === undefined ? {} : { attempt: data.attempt }),
  };
}

function formatSummary(summary: StateSummary, events: number): string {
  const lines = [
    `${summary.workflowId ?? ''}  ${summary.definition?.name ?? ''}  ${summary.status}  at revision ${summary.revision} (${events} events)`,
  ];
  if (summary.startedAt) lines.push(`started ${summary.startedAt}${summary.endedAt ? `  ended ${summary.endedAt}` : ''}`);
  if (summary.compensation) lines.push(`compensation (${summary.compensation.cause}): ${summary.compensation.reason}`);
  if (summary.lastError) lines.push(`last error: ${summary.lastError.stepId ? `${summary.lastError.stepId}: ` : ''}${summary.lastError.message}`);
  if (summary.steps.length > 0) {
    lines.push('', `${'step'.padEnd(22)}${'status'.padEnd(14)}${'attempt'.padEnd(9)}${'agent'.padEnd(27)}compensation`);
    for (const s of summary.steps) lines.push(`${s.id.padEnd(22)}${s.status.padEnd(14)}${String(s.attempt).padEnd(9)}${(s.agentId ?? '-').padEnd(27)}${s.compensation}`);
  }
  return `${lines.join('\n')}\n`;
}
