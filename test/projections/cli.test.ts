import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.js';
import { openStore } from '../../src/store/open.js';
import { populate, readLog } from './fixtures/populate.js';

const dir = mkdtempSync(join(tmpdir(), 'cadenza-projections-cli-'));
const store = `sqlite:${join(dir, 'cadenza.db')}`;
let ids: string[] = [];

beforeAll(async () => {
  const opened = await openStore(store);
  ids = await populate(opened, { workflows: 12, seed: 77 });
  await opened.close();
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs the CLI in-process; returns its exit code and what it wrote to stdout and stderr. */
async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const out = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => ((stdout += String(chunk)), true));
  const err = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => ((stderr += String(chunk)), true));
  try {
    const code = await main(['node', 'cadenza', '--store', store, ...args]);
    return { code, stdout, stderr };
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
}

describe('CLI commands over the read models', () => {
  it('lists workflows by status as one JSON document', async () => {
    const all = await cli('list', '--json', '--limit', '1000');
    expect(all.code).toBe(0);
    const { workflows } = JSON.parse(all.stdout) as { workflows: { workflowId: string; status: string }[] };
    expect(workflows.map((w) => w.workflowId).sort()).toEqual([...ids].sort());
    const compensated = workflows.filter((w) => w.status === 'compensated').map((w) => w.workflowId).sort();
    const filtered = JSON.parse((await cli('list', '--status', 'compensated', '--json')).stdout) as { workflows: { workflowId: string }[] };
    expect(filtered.workflows.map((w) => w.workflowId).sort()).toEqual(compensated);
    expect((await cli('list', '--status', 'sleeping')).code).toBe(2);
  });

  it('audits in every format, with ISO times and CSV escaping', async () => {
    const id = ids[0]!;
    const json = JSON.parse((await cli('audit', '--workflow', id, '--format', 'json')).stdout) as { events: { revision: number; time: string; data: unknown }[] };
    expect(json.events.map((e) => e.revision)).toEqual(json.events.map((_, i) => i));
    expect(json.events[0]?.time).toMatch(/Z$/);
    expect(json.events[0]?.data).toMatchObject({ workflowId: id });
    const ndjson = (await cli('audit', '--workflow', id, '--format', 'ndjson', '--no-data')).stdout.trim().split('\n');
    expect(ndjson).toHaveLength(json.events.length);
    expect(JSON.parse(ndjson[0]!)).not.toHaveProperty('data');
    const csv = (await cli('audit', '--workflow', id, '--format', 'csv')).stdout.trim().split('\n');
    expect(csv[0]).toBe('time,position,stream,revision,type,workflowId,stepId,agentId,correlationId,causationId,eventId');
    expect(csv).toHaveLength(json.events.length + 1);
    const table = await cli('audit', '--stream', 'workflow', '--type', 'WorkflowStarted', '--limit', '3');
    expect(table.stdout.trim().split('\n')).toHaveLength(4);
    expect(table.stderr).toMatch(/more: --after \d+\/\d+/);
    expect((await cli('audit', '--since', 'last tuesday')).code).toBe(2);
  });

  it('replays to a revision, step by step, and reports unknown workflows', async () => {
    const replay = await cli('replay', ids[1]!, '--until', '2', '--step', '--json');
    expect(replay.code).toBe(0);
    const doc = JSON.parse(replay.stdout) as { events: number; state: { revision: number }; transitions: { type: string }[] };
    expect(doc.events).toBe(3);
    expect(doc.state.revision).toBe(2);
    expect(doc.transitions[0]?.type).toBe('WorkflowStarted');
    expect((await cli('replay', 'no-such-workflow')).code).toBe(3);
    expect((await cli('replay', ids[1]!, '--until', 'soon')).code).toBe(2);
  });

  it('shows projection status and poison, and rebuilds', async () => {
    const status = JSON.parse((await cli('projections', 'status', '--json')).stdout) as { projections: { projection: string; lag: number }[] };
    expect(status.projections.map((p) => p.projection)).toEqual(['workflow-status', 'step-metrics', 'agent-health', 'audit-index']);
    const rebuilt = JSON.parse((await cli('projections', 'rebuild', 'step-metrics', '--json')).stdout) as { rebuilt: { eventsApplied: number }[] };
    expect(rebuilt.rebuilt[0]?.eventsApplied).toBeGreaterThan(0);
    const after = JSON.parse((await cli('projections', 'status', '--json')).stdout) as { projections: { projection: string; lag: number }[] };
    expect(after.projections.find((p) => p.projection === 'step-metrics')?.lag).toBe(0);
    expect(JSON.parse((await cli('projections', 'poison', '--json')).stdout)).toEqual({ poison: [] });
    // Checked against the log itself, not against the folds that built the read models.
    const opened = await openStore(store);
    const log = await readLog(opened);
    await opened.close();
    const ofStep = (type: string) => log.filter((e) => e.type === type && (e.data as { stepId: string }).stepId === 'market-data');
    const durations = ofStep('StepSucceeded').map((e) => (e.data as { durationMs: number }).durationMs).sort((a, b) => a - b);
    const metrics = JSON.parse((await cli('projections', 'show', 'step-metrics', '--json')).stdout) as { steps: { stepId: string; attempts: number; succeeded: number; latencyMs: { count: number; p99: number; max: number } }[] };
    const marketData = metrics.steps.find((s) => s.stepId === 'market-data')!;
    expect(marketData).toMatchObject({ attempts: ofStep('StepScheduled').length, succeeded: durations.length, latencyMs: { count: durations.length, max: durations.at(-1) } });
    expect(durations.length).toBeGreaterThan(1);
    expect(marketData.latencyMs.p99).toBeGreaterThanOrEqual(durations[Math.ceil(0.99 * durations.length) - 1]!);
    expect(marketData.latencyMs.p99).toBeLessThanOrEqual(durations.at(-1)!);
    // One entry per agent the workflows called or that has a stream of its own.
    const health = JSON.parse((await cli('projections', 'show', 'agent-health', '--json')).stdout) as { agents: { agentId: string; circuit: string }[] };
    const called = log.flatMap((e) => (e.type === 'StepScheduled' || e.type === 'CompensationScheduled' ? [(e.data as { agentId: string }).agentId] : []));
    const registered = log.flatMap((e) => (e.stream.startsWith('agent-') ? [e.stream.slice('agent-'.length)] : []));
    expect(health.agents.map((a) => a.agentId).sort()).toEqual([...new Set([...called, ...registered])].sort());
    expect((await cli('projections', 'rebuild', 'nonsense')).code).toBe(2);
  });

  it('forks a workflow and rejects operator commands that make no sense', async () => {
    const fork = await cli('fork', ids[2]!, '--from', '2', '--id', 'forked-one', '--json');
    expect(fork.code).toBe(0);
    expect(JSON.parse(fork.stdout)).toMatchObject({ workflowId: 'forked-one', forkedFrom: ids[2], fromRevision: 2 });
    expect((await cli('fork', ids[2]!, '--from', '2', '--id', 'forked-one')).code).toBe(2);
    expect((await cli('retry', 'forked-one', '--no-wait')).code).toBe(1);
    expect((await cli('compensate', 'no-such-workflow', '--no-wait')).code).toBe(3);

    // Cancel the fork (it is running: nobody made its calls); a second cancel makes no sense.
    const cancelled = await cli('cancel', 'forked-one', '--no-wait', '--reason', 'operator stop', '--json');
    expect(cancelled.code).toBe(0);
    const appended = (JSON.parse(cancelled.stdout) as { command: string; events: { type: string }[] });
    expect(appended.command).toBe('cancel');
    expect(appended.events[0]?.type).toBe('CompensationStarted');
    expect((await cli('cancel', 'forked-one', '--no-wait')).code).toBe(1);
  });
});
