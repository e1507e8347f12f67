/**
 * `cadenza projections status|rebuild|run|show|poison`: the read models' checkpoints and lag,
 * rebuilding from zero, following live (a long-running process), step metrics and agent health, and
 * the poison events they skipped.
 */
import type { Command } from 'commander';
import { listCheckpoints, listPoison } from '../../projections/bookkeeping.js';
import { createProjection, isProjectionName, projectionNames, type ProjectionName } from '../../projections/catalogue.js';
import { runProjections } from '../../projections/catch-up.js';
import { defaultReadModelPath, openReadModelDb } from '../../projections/readmodel-db.js';
import { ProjectionRunner } from '../../projections/runner.js';
import { withReadModels } from '../../projections/session.js';
import { readAgentHealth, type AgentHealthView } from '../../../projections/agent-health/index.js';
import { readAgentMetrics, readStepMetrics, type OutcomeRates, type StepMetricsView } from '../../../projections/step-metrics/index.js';
import { CliError, ExitCode, printJson, withStore, type GlobalOptions } from '../context.js';

interface ReadModelOption {
  readmodels?: string;
}

function namesOf(args: readonly string[]): ProjectionName[] {
  const unknown = args.filter((name) => !isProjectionName(name));
  if (unknown.length > 0) throw new CliError(`Unknown projection ${unknown.map((n) => `"${n}"`).join(', ')} (known: ${projectionNames.join(', ')})`, ExitCode.Usage);
  return args.length === 0 ? [...projectionNames] : (args as ProjectionName[]);
}

export function register(program: Command): void {
  const projections = program.command('projections').description('read models: status and lag, rebuild, run live, poison events');
  const readModelsOption = ['--readmodels <path>', 'read-model database (default: next to the store; env CADENZA_READMODELS)'] as const;

  projections
    .command('status')
    .description('checkpoint, events applied, lag behind the log and poison events of each projection')
    .option(...readModelsOption)
    .action(async (options: ReadModelOption, command: Command) => {
      const globals = command.optsWithGlobals<GlobalOptions>();
      const rows = await withStore(globals, async (store) => {
        const db = openReadModelDb(options.readmodels ?? defaultReadModelPath(globals.store));
        try {
          const checkpoints = new Map(listCheckpoints(db).map((c) => [c.projection, c]));
          const poison = listPoison(db);
          const result = [];
          for (const name of projectionNames) {
            const runner = new ProjectionRunner(store, db, createProjection(name));
            const lag = await runner.lag();
            const checkpoint = checkpoints.get(name);
            result.push({
              projection: name,
              checkpoint: checkpoint?.position ? `${checkpoint.position.commit}/${checkpoint.position.prepare}` : null,
              eventsApplied: runner.status().eventsApplied,
              lag: lag.events,
              lagCapped: lag.capped,
              poison: poison.filter((p) => p.projection === name).length,
              updatedAt: checkpoint?.updatedAt ?? null,
            });
          }
          return result;
        } finally {
          db.close();
        }
      });
      if (globals.json) return printJson({ projections: rows });
      const lines = [`${'projection'.padEnd(18)}${'applied'.padStart(10)}${'lag'.padStart(10)}${'poison'.padStart(8)}  checkpoint`];
      for (const r of rows) lines.push(`${r.projection.padEnd(18)}${String(r.eventsApplied).padStart(10)}${`${r.lag}${r.lagCapped ? '+' : ''}`.padStart(10)}${String(r.poison).padStart(8)}  ${r.checkpoint ?? '-'}`);
      process.stdout.write(`${lines.join('\n')}\n`);
    });

  projections
    .command('rebuild')
    .description('delete read models and fold them again from the start of the log')
    .argument('[names...]', `projections (default: all of ${projectionNames.join(', ')})`)
    .option(...readModelsOption)
    .action(async (args: string[], options: ReadModelOption, command: Command) => {
      const globals = command.optsWithGlobals<GlobalOptions>();
      const names = namesOf(args);
      const rebuilt = await withStore(globals, async (store) => {
        const db = openReadModelDb(options.readmodels ?? defaultReadModelPath(globals.store));
        try {
          const statuses = [];
          for (const name of names) {
            const started = performance.now();
            const runner = new ProjectionRunner(store, db, createProjection(name));
            runner.rebuild();
            const status = await runner.catchUp();
            const ms = performance.now() - started;
            if (!globals.json) process.stderr.write(`${name}: ${status.eventsApplied} events in ${Math.round(ms)} ms\n`);
            statuses.push({ projection: name, eventsApplied: status.eventsApplied, ms: Math.round(ms) });
          }
          return statuses;
        } finally {
          db.close();
        }
      });
      if (globals.json) printJson({ rebuilt });
    });

  projections
    .command('run')
    .description('keep read models up to date, following the log live until interrupted (SIGINT/SIGTERM)')
    .argument('[names...]', 'projections (default: all)')
    .option(...readModelsOption)
    .action(async (args: string[], options: ReadModelOption, command: Command) => {
      const globals = command.optsWithGlobals<GlobalOptions>();
      const names = namesOf(args);
      await withStore(globals, async (store) => {
        const db = openReadModelDb(options.readmodels ?? defaultReadModelPath(globals.store));
        const running = runProjections(store, db, names);
        const stop = () => void running.stop();
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
        try {
          if (!globals.json) process.stderr.write(`following ${names.join(', ')}; Ctrl-C to stop\n`);
          await running.done;
        } finally {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          db.close();
        }
      });
      if (globals.json) printJson({ stopped: names });
    });

  projections
    .command('show')
    .description('step metrics (per definition step and per agent) or agent health, brought up to date first')
    .argument('<name>', 'step-metrics or agent-health')
    .option(...readModelsOption)
    .action(async (name: string, options: ReadModelOption, command: Command) => {
      const globals = command.optsWithGlobals<GlobalOptions>();
      if (name !== 'step-metrics' && name !== 'agent-health') throw new CliError(`show: expected step-metrics or agent-health, got "${name}" (see list and audit for the others)`, ExitCode.Usage);
      const output = await withStore(globals, (store) =>
        withReadModels(store, { storeUri: globals.store, path: options.readmodels, catchUp: [name] }, (db) => {
          if (name === 'agent-health') {
            const agents = readAgentHealth(db);
            return { json: { agents }, text: formatAgentHealth(agents) };
          }
          const steps = readStepMetrics(db);
          const agents = readAgentMetrics(db);
          return { json: { steps, agents }, text: formatStepMetrics(steps, agents) };
        }),
      );
      if (globals.json) return printJson(output.json);
      process.stdout.write(output.text);
    });

  projections
    .command('poison')
    .description('events a projection could not fold (unparseable, unknown version), with the reason')
    .argument('[name]', 'one projection (default: all)')
    .option(...readModelsOption)
    .action((name: string | undefined, options: ReadModelOption, command: Command) => {
      const globals = command.optsWithGlobals<GlobalOptions>();
      if (name !== undefined) namesOf([name]);
      const db = openReadModelDb(options.readmodels ?? defaultReadModelPath(globals.store));
      const poison = (() => {
        try {
          return listPoison(db, name);
        } finally {
          db.close();
        }
      })();
      const records = poison.map((p) => ({ ...p, position: `${p.position.commit}/${p.position.prepare}` }));
      if (globals.json) return printJson({ poison: records });
      for (const p of records) process.stdout.write(`${p.projection}  ${p.position}  ${p.stream}@${p.revision}  ${p.eventType}: ${p.reason}\n`);
      if (records.length === 0) process.stdout.write('no poison events\n');
    });
}

const percent = (rate: number | undefined): string => (rate === undefined ? '-' : `${(rate * 100).toFixed(1)}%`);
const ms = (value: number | undefined): string => (value === undefined ? '-' : String(Math.round(value)));

function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: readonly string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  return `${[line(header), ...rows.map(line)].join('\n')}\n`;
}

const outcomeCells = (o: OutcomeRates): string[] => [
  String(o.attempts), percent(o.successRate), String(o.timedOut), ms(o.latencyMs.p50), ms(o.latencyMs.p95), ms(o.latencyMs.p99),
];

function formatStepMetrics(steps: readonly StepMetricsView[], agents: readonly (OutcomeRates & { agentId: string })[]): string {
  const outcomes = ['attempts', 'success', 'timeouts', 'p50 ms', 'p95 ms', 'p99 ms'];
  return `${table(['definition/step', ...outcomes, 'retries', 'skipped', 'compensations'], steps.map((s) => [
    `${s.definition}/${s.stepId}`, ...outcomeCells(s), String(s.retries), String(s.skipped), `${s.compensations.succeeded}/${s.compensations.attempts}`,
  ]))}\n${table(['agent', ...outcomes], agents.map((a) => [a.agentId, ...outcomeCells(a)]))}`;
}

function formatAgentHealth(agents: readonly AgentHealthView[]): string {
  return table(['agent', 'circuit', 'in flight', 'success', 'recent', 'p50 ms', 'p99 ms', 'registered'], agents.map((a) => [
    a.agentId, a.circuit, String(a.inFlight), percent(a.successRate), percent(a.recentSuccessRate), ms(a.latencyMs.p50), ms(a.latencyMs.p99), a.registered ? 'yes' : 'no',
  ]));
}
