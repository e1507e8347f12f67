/**
 * `cadenza audit`: events by workflow, correlation id, type, agent, stream or category, and time
 * range, answered from the audit index (brought up to date first), as a table, JSON, NDJSON or CSV.
 */
import { InvalidArgumentError, Option, type Command } from 'commander';
import { queryAudit, withEventData, type AuditEntry, type AuditFilter } from '../../projections/audit-query.js';
import { withReadModels } from '../../projections/session.js';
import { CliError, ExitCode, printJson, toJson, withStore, type GlobalOptions } from '../context.js';
import { integer } from '../options.js';

interface AuditOptions {
  workflow?: string;
  correlation?: string;
  causation?: string;
  type?: string[];
  agent?: string;
  step?: string;
  stream?: string;
  since?: Date;
  until?: Date;
  limit: number;
  after?: { commit: bigint; prepare: bigint };
  desc?: boolean;
  format?: 'table' | 'json' | 'ndjson' | 'csv';
  data: boolean;
  readmodels?: string;
}

function isoTime(value: string): Date {
  const time = Date.parse(value);
  if (!/^\d{4}-\d{2}-\d{2}/.test(value) || Number.isNaN(time)) throw new InvalidArgumentError(`expected an ISO 8601 time such as 2026-01-31T12:00:00Z, got "${value}"`);
  return new Date(time);
}

function cursor(value: string): { commit: bigint; prepare: bigint } {
  const match = /^(\d+)(?:\/(\d+))?$/.exec(value);
  if (!match) throw new InvalidArgumentError(`expected a position "<commit>/<prepare>" as printed by --json, got "${value}"`);
  return { commit: BigInt(match[1]!), prepare: BigInt(match[2] ?? match[1]!) };
}

const collect = (value: string, previous: string[] = []): string[] => [...previous, ...value.split(',').filter((v) => v !== '')];

export function register(program: Command): void {
  program
    .command('audit')
    .description('query the event log: filters on workflow, correlation, type, agent, stream and time, answered from the audit index')
    .option('--workflow <id>', 'events of this workflow')
    .option('--correlation <id>', 'events with this correlation id')
    .option('--causation <id>', 'events caused by this event id')
    .option('--type <types>', 'event types (comma-separated or repeated)', collect)
    .option('--agent <id>', 'events of or about this agent')
    .option('--step <id>', 'events of this step id')
    .option('--stream <name>', 'a stream name (workflow-42), or a category without "-" (workflow, agent)')
    .option('--since <time>', 'recorded at or after this ISO 8601 time', isoTime)
    .option('--until <time>', 'recorded before this ISO 8601 time', isoTime)
    .option('--limit <n>', 'at most this many events', integer(1, 100_000), 100)
    .option('--after <position>', 'page: events after this position (the "next" of the previous --json page)', cursor)
    .option('--desc', 'newest first')
    .addOption(new Option('--format <format>', 'output format').choices(['table', 'json', 'ndjson', 'csv']))
    .option('--no-data', 'json/ndjson: leave out event data and metadata')
    .option('--readmodels <path>', 'read-model database (default: next to the store; env CADENZA_READMODELS)')
    .action(async (options: AuditOptions, command: Command) => {
      const globals = command.optsWithGlobals<GlobalOptions>();
      const format = options.format ?? (globals.json ? 'json' : 'table');
      const filter: AuditFilter = {
        ...(options.workflow === undefined ? {} : { workflowId: options.workflow }),
        ...(options.correlation === undefined ? {} : { correlationId: options.correlation }),
        ...(options.causation === undefined ? {} : { causationId: options.causation }),
        ...(options.type === undefined || options.type.length === 0 ? {} : { types: options.type }),
        ...(options.agent === undefined ? {} : { agentId: options.agent }),
        ...(options.step === undefined ? {} : { stepId: options.step }),
        ...(options.stream === undefined ? {} : { stream: options.stream }),
        ...(options.since === undefined ? {} : { since: options.since }),
        ...(options.until === undefined ? {} : { until: options.until }),
        ...(options.after === undefined ? {} : { after: options.after }),
        order: options.desc ? 'desc' : 'asc',
        limit: options.limit,
      };
      if (options.since && options.until && options.since >= options.until) throw new CliError('--since must be before --until', ExitCode.Usage);
      const withData = options.data && (format === 'json' || format === 'ndjson');
      const { entries, next } = await withStore(globals, (store) =>
        withReadModels(store, { storeUri: globals.store, path: options.readmodels, catchUp: ['audit-index'] }, async (db) => {
          const page = queryAudit(db, filter);
          return { entries: withData ? await withEventData(store, page.entries) : page.entries, next: page.next };
        }),
      );
      print(format, entries, next);
    });
}

const columns = ['time', 'position', 'stream', 'revision', 'type', 'workflowId', 'stepId', 'agentId', 'correlationId', 'causationId', 'eventId'] as const;

function cell(entry: AuditEntry, column: (typeof columns)[number]): string {
  if (column === 'position') return `${entry.position.commit}/${entry.position.prepare}`;
  const value = entry[column];
  return value === null ? '' : String(value);
}

function print(format: string, entries: readonly AuditEntry[], next: AuditEntry['position'] | undefined): void {
  const out = (text: string): void => void process.stdout.write(text);
  const position = (p: AuditEntry['position']) => `${p.commit}/${p.prepare}`;
  const plain = (e: AuditEntry) => ({ ...e, position: position(e.position) });
  switch (format) {
    case 'json':
      return printJson({ events: entries.map(plain), next: next === undefined ? null : position(next) });
    case 'ndjson':
      return out(entries.map((e) => `${toJson(plain(e), 0)}\n`).join(''));
    case 'csv':
      return out([columns.join(','), ...entries.map((e) => columns.map((c) => csvField(cell(e, c))).join(','))].join('\n') + '\n');
    default: {
      const shown = ['time', 'stream', 'revision', 'type', 'stepId', 'agentId', 'correlationId'] as const;
      const widths = shown.map((c) => Math.max(c.length, ...entries.map((e) => cell(e, c).length)));
      const line = (values: readonly string[]) => values.map((v, i) => v.padEnd(widths[i]!)).join('  ').trimEnd();
      out([line(shown), ...entries.map((e) => line(shown.map((c) => cell(e, c))))].join('\n') + '\n');
      if (next) process.stderr.write(`more: --after ${position(next)}\n`);
    }
  }
}

function csvField(value: string): string {
  return /[",\n\r]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}
