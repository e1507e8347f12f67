/**
 * Projections benchmark (`npm run bench:projections`): catch-up speed of each read model over a
 * store of 1,000,000 events, audit query latency on that store, and replay of one 100,000-event
 * workflow. Histories are realistic (decided by the pure core with scripted agents) and cloned for
 * volume; generating them is not measured. The last line is the JSON result.
 * BENCH_EVENTS overrides the store size (for a quick run).
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { queryAudit, type AuditFilter } from '../../src/projections/audit-query.js';
import { createProjection, projectionNames } from '../../src/projections/catalogue.js';
import { openReadModelDb, type ReadModelDb } from '../../src/projections/readmodel-db.js';
import { replayWorkflow } from '../../src/saga/stream/index.js';
import { ProjectionRunner } from '../../src/projections/runner.js';
import { decide } from '../../src/saga/decide.js';
import { evolve, foldEvents } from '../../src/saga/evolve.js';
import { parseWorkflowEvent, type WorkflowEvent } from '../../src/saga/events.js';
import { initialState, type WorkflowState } from '../../src/saga/state.js';
import type { Trigger } from '../../src/saga/triggers.js';
import { openStore } from '../../src/store/open.js';
import type { EventData, EventStore, Json, RecordedEvent } from '../../src/store/port.js';
import { validateDefinition } from '../../src/workflow/validate.js';
import { tradingPipeline } from '../../sagas/index.js';
import { mulberry32, randomScript, simulateWorkflow, tradingInput, tradingOutputs } from '../projections/fixtures/simulate.js';

const TOTAL = Number(process.env.BENCH_EVENTS ?? 1_000_000);
/** The workflow read models are timed over the first this many events of the log (the audit index over all of it). */
const CATCHUP_SAMPLE = Number(process.env.BENCH_CATCHUP_SAMPLE ?? 250_000);
const results: Record<string, { value: number; unit: string }> = {};
const record = (name: string, value: number, unit: string, note = ''): void => {
  results[name] = { value: Math.round(value * 100) / 100, unit };
  console.log(`${name.padEnd(40)} ${String(results[name].value).padStart(12)} ${unit}${note ? `  (${note})` : ''}`);
};
const log = (text: string): void => void process.stderr.write(`${text}\n`);

/** Trading histories (some retry, time out, compensate) as JSON text with a placeholder workflow id. */
function templates(count: number): string[][] {
  return Array.from({ length: count }, (_, k) => {
    const { decisions } = simulateWorkflow({
      workflowId: 'WFID', definition: tradingPipeline, input: tradingInput, outputs: tradingOutputs, seed: k + 1,
      correlationId: 'CORR', script: randomScript(k + 1, { fail: 0.1, fatal: 0.03, timeout: 0.03 }),
    });
    return decisions.flat().map((event) => JSON.stringify(event));
  });
}

async function generate(store: EventStore, total: number): Promise<number> {
  const histories = templates(32);
  const random = mulberry32(5);
  let written = 0;
  let workflow = 0;
  while (written < total) {
    const appends: Promise<unknown>[] = [];
    for (let i = 0; i < 200 && written < total; i++, workflow++) {
      const history = histories[workflow % histories.length]!;
      const id = `bench-${workflow}`;
      const events = history.map((text): EventData => ({
        ...(JSON.parse(text.replaceAll('WFID', id).replaceAll('CORR', `corr-${workflow % 1000}`)) as EventData),
        id: randomUUID(),
      }));
      appends.push(store.append(`workflow-${id}`, events, { expectedRevision: 'no_stream' }));
      written += events.length;
      if (workflow % 100 === 0) {
        const agentId = `market-data-${1 + Math.floor(random() * 2)}`;
        const at = Date.UTC(2026, 0, 1) + workflow;
        appends.push(store.append(`agent-${agentId}`, [
          { id: randomUUID(), type: 'AgentCircuitOpened', data: { v: 1, agentId, at, reopenAt: at + 5000, reason: 'bench' } },
          { id: randomUUID(), type: 'AgentCircuitClosed', data: { v: 1, agentId, at: at + 6000 } },
        ]));
        written += 2;
      }
    }
    await Promise.all(appends);
  }
  return written;
}

async function benchCatchUp(store: EventStore, dir: string): Promise<ReadModelDb> {
  let auditDb: ReadModelDb | undefined;
  for (const name of projectionNames) {
    const db = openReadModelDb(join(dir, `${name}.db`));
    const sample = name === 'audit-index' ? Infinity : CATCHUP_SAMPLE;
    const runner: ProjectionRunner = new ProjectionRunner(store, db, createProjection(name), {
      batchSize: 5000,
      onCommit: () => void (runner.status().eventsApplied >= sample && runner.stop()),
    });
    const started = performance.now();
    const status = await runner.catchUp();
    const seconds = (performance.now() - started) / 1000;
    record(`projection.${name}.catchup`, status.eventsApplied / seconds, 'events/s', `${status.eventsApplied} events in ${seconds.toFixed(1)} s`);
    if (name === 'audit-index') auditDb = db;
    else db.close();
  }
  return auditDb!;
}

function median(times: number[]): number {
  const sorted = [...times].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

function benchAudit(db: ReadModelDb, total: number): void {
  const times = db.prepare('SELECT min(time) AS first, max(time) AS last FROM audit_event').get() as { first: number; last: number };
  const middle = new Date(times.first + (times.last - times.first) / 2);
  const queries: Record<string, AuditFilter> = {
    // The headline figure: a type filter over a time range, newest first, one page.
    'audit.query.1m.ms': { types: ['StepFailed', 'StepTimedOut'], since: middle, order: 'desc', limit: 100 },
    'audit.query.workflow.ms': { workflowId: 'bench-4242', limit: 1000 },
    'audit.query.correlation_type.ms': { correlationId: 'corr-7', types: ['WorkflowCompensated'], limit: 100 },
    'audit.query.agent_range.ms': { agentId: 'compliance-2', since: new Date(times.first), until: middle, limit: 100 },
    'audit.query.category.ms': { stream: 'agent', limit: 100 },
  };
  for (const [metric, filter] of Object.entries(queries)) {
    const runs: number[] = [];
    let found = 0;
    for (let i = 0; i < 21; i++) {
      const started = performance.now();
      found = queryAudit(db, filter).entries.length;
      runs.push(performance.now() - started);
    }
    record(metric.replace('1m', total >= 1_000_000 ? '1m' : `${Math.round(total / 1000)}k`), median(runs), 'ms', `median of 21; ${found} events`);
  }
}

/**
 * One workflow of 100,000 events: 6,000 steps in a DAG 100 wide, each failing (retryably) two to
 * eight times before it succeeds, so the history is long because of retries, as long histories are.
 */
function bigHistory(size: number): WorkflowEvent[] {
  const width = 100;
  const steps = Array.from({ length: 6_000 }, (_, i) => ({
    id: `s${i}`, action: 'work', capability: 'worker', timeoutMs: 1_000,
    dependsOn: i >= width ? [`s${i - width}`] : [],
    retry: { maxAttempts: 10, initialDelayMs: 10, multiplier: 2, maxDelayMs: 100, jitter: 0 },
  }));
  const definition = validateDefinition({ name: 'long', failureStrategy: 'fail', steps });
  const events: WorkflowEvent[] = [];
  let state: WorkflowState = initialState('big');
  let now = Date.UTC(2026, 0, 1);
  const triggers: Trigger[] = [{ kind: 'command', command: { type: 'start', workflowId: 'big', definition, input: {} } }];
  for (let next = 0; next < triggers.length && events.length < size; next++) {
    now += 2_000;
    for (const event of decide(state, triggers[next]!, { now, random: () => 0.5, candidates: () => ['worker-1', 'worker-2'] })) {
      state = evolve(state, event);
      events.push(event);
      if (event.type === 'StepScheduled') {
        const { stepId, attempt } = event.data;
        const failures = 2 + (Number(stepId.slice(1)) % 7);
        if (attempt <= failures) triggers.push({ kind: 'stepResult', stepId, attempt, outcome: { ok: false, error: { message: 'flaky', retryable: true } } });
        else triggers.push({ kind: 'stepResult', stepId, attempt, outcome: { ok: true, output: { attempt } } });
      }
      if (event.type === 'StepRetryScheduled') triggers.push({ kind: 'timer', timer: { kind: 'retryDue', stepId: event.data.stepId, attempt: event.data.nextAttempt } });
    }
  }
  if (events.length < size) throw new Error(`history has only ${events.length} events`);
  return events.slice(0, size);
}

async function benchReplay(store: EventStore): Promise<void> {
  const history = bigHistory(100_000);
  for (let i = 0; i < history.length; i += 5000) {
    const chunk = history.slice(i, i + 5000).map((e): EventData => ({ id: e.id, type: e.type, data: e.data as unknown as Json, metadata: { schemaVersion: 1, workflowId: 'big' } }));
    await store.append('workflow-big', chunk, { expectedRevision: i === 0 ? 'no_stream' : BigInt(i - 1) });
  }
  await replayWorkflow(store, 'big'); // warm-up
  const runs: number[] = [];
  let status = '';
  for (let i = 0; i < 3; i++) {
    const started = performance.now();
    const { state, events } = await replayWorkflow(store, 'big');
    runs.push(performance.now() - started);
    status = `${events} events, ${state.status}`;
  }
  record('replay.100k.ms', median(runs), 'ms', `median of 3; ${status}`);
  await replayParts(store);
}

/** Where replay time goes: reading the stream, validating events, folding them. */
async function replayParts(store: EventStore): Promise<void> {
  let started = performance.now();
  const read: RecordedEvent[] = [];
  for await (const event of store.readStream('workflow-big')) read.push(event);
  record('replay.parts.read.ms', performance.now() - started, 'ms');
  started = performance.now();
  const parsed = read.map((e) => parseWorkflowEvent(e.type, e.data, e.metadata, e.id));
  record('replay.parts.parse.ms', performance.now() - started, 'ms');
  started = performance.now();
  foldEvents(parsed);
  record('replay.parts.fold.ms', performance.now() - started, 'ms');
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'cadenza-bench-projections-'));
  console.log(`projections benchmark: node ${process.version}, ${TOTAL} events`);
  try {
    const store = await openStore(`sqlite:${join(dir, 'events.db')}?durability=normal`);
    if (process.env.BENCH_ONLY !== 'replay') {
      const started = performance.now();
      const written = await generate(store, TOTAL);
      log(`generated ${written} events in ${((performance.now() - started) / 1000).toFixed(1)} s (not measured)`);
      const auditDb = await benchCatchUp(store, dir);
      benchAudit(auditDb, written);
      auditDb.close();
    }
    await benchReplay(store);
    await store.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  console.log(JSON.stringify({ bench: 'projections', results }));
}

await main();
