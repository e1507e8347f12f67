/** `cadenza list [--status ...]`: workflows, newest first, from the workflow-status read model (brought up to date first). */
import type { Command } from 'commander';
import { withReadModels } from '../../projections/session.js';
import { listWorkflows } from '../../../projections/workflow-status/index.js';
import type { WorkflowStatusView } from '../../../projections/workflow-status/view.js';
import { CliError, ExitCode, printJson, withStore, type GlobalOptions } from '../context.js';
import { integer } from '../options.js';

const statuses = ['queued', 'running', 'paused', 'compensating', 'completed', 'failed', 'compensated', 'compensationFailed', 'cancelled', 'resolved'];

interface ListOptions {
  status?: string[];
  definition?: string;
  correlation?: string;
  limit: number;
  readmodels?: string;
}

const collect = (value: string, previous: string[] = []): string[] => [...previous, ...value.split(',').filter((v) => v !== '')];

export function register(program: Command): void {
  program
    .command('list')
    .description('list workflows with status, progress and ETA, newest first')
    .option('--status <statuses>', `only these statuses, comma-separated or repeated (${statuses.join(', ')})`, collect)
    .option('--definition <name>', 'only workflows of this definition')
    .option('--correlation <id>', 'only workflows with this correlation id')
    .option('--limit <n>', 'at most this many', integer(1, 100_000), 100)
    .option('--readmodels <path>', 'read-model database (default: next to the store; env CADENZA_READMODELS)')
    .action(async (options: ListOptions, command: Command) => {
      const globals = command.optsWithGlobals<GlobalOptions>();
      const unknown = (options.status ?? []).filter((s) => !statuses.includes(s));
      if (unknown.length > 0) throw new CliError(`--status: unknown status ${unknown.map((s) => `"${s}"`).join(', ')} (known: ${statuses.join(', ')})`, ExitCode.Usage);
      const workflows = await withStore(globals, (store) =>
        withReadModels(store, { storeUri: globals.store, path: options.readmodels, catchUp: ['workflow-status'] }, (db) =>
          listWorkflows(
            db,
            {
              ...(options.status ? { statuses: options.status } : {}),
              ...(options.definition === undefined ? {} : { definition: options.definition }),
              ...(options.correlation === undefined ? {} : { correlationId: options.correlation }),
              limit: options.limit,
            },
            Date.now(),
          ),
        ),
      );
      if (globals.json) printJson({ workflows });
      else process.stdout.write(formatTable(workflows));
    });
}

function formatTable(workflows: readonly WorkflowStatusView[]): string {
  const header = ['workflow', 'definition', 'status', 'progress', 'steps', 'started', 'ended / eta'];
  const rows = workflows.map((w) => [
    w.workflowId,
    w.definition.name,
    w.status,
    `${w.progress}%`,
    `${w.steps.completed}/${w.steps.total}${w.steps.failed ? ` ${w.steps.failed} failed` : ''}${w.steps.running ? ` ${w.steps.running} running` : ''}`,
    w.startedAt,
    w.endedAt ?? (w.eta ? `eta ${w.eta.at}` : ''),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: readonly string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  return `${[line(header), ...rows.map(line)].join('\n')}\n`;
}
