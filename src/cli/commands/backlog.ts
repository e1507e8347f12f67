/**
 * `cadenza backlog`: the durable backlog, from the store (the workflow-status read model, brought up
 * to date first): queued workflows, how many and how old, per priority, whoever queued them.
 */
import type { Command } from 'commander';
import { withReadModels } from '../../projections/session.js';
import { backlogView, readBacklog, type BacklogView } from '../../../projections/workflow-status/backlog.js';
import { printJson, withStore, type GlobalOptions } from '../context.js';

export function register(program: Command): void {
  program
    .command('backlog')
    .description('queued workflows waiting for a slot: depth and oldest age per priority, highest (admitted first) first')
    .option('--readmodels <path>', 'read-model database (default: next to the store; env CADENZA_READMODELS)')
    .action(async (options: { readmodels?: string }, command: Command) => {
      const globals = command.optsWithGlobals<GlobalOptions>();
      const view = await withStore(globals, (store) =>
        withReadModels(store, { storeUri: globals.store, path: options.readmodels, catchUp: ['workflow-status'] }, (db) => backlogView(readBacklog(db), Date.now())),
      );
      if (globals.json) printJson(view);
      else process.stdout.write(formatTable(view));
    });
}

function formatTable(view: BacklogView): string {
  if (view.depth === 0) return 'backlog empty: no queued workflows\n';
  const header = ['priority', 'queued', 'oldest started', 'oldest age'];
  const rows = view.priorities.map((p) => [String(p.priority), String(p.depth), p.oldestStartedAt, seconds(p.oldestAgeMs)]);
  rows.push(['all', String(view.depth), view.oldestStartedAt ?? '', seconds(view.oldestAgeMs ?? 0)]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: readonly string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  return `${[line(header), ...rows.map(line)].join('\n')}\n`;
}

const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;
