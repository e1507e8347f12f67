/** The `cadenza` command as a user runs it: a child process, its stdout, stderr and exit code. */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const bin = fileURLToPath(new URL('../../src/cli/bin.js', import.meta.url));
let dir = '';
let store = '';

function cadenza(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return cadenzaOn(store, ...args);
}

function cadenzaOn(storeUri: string, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [bin, '--store', storeUri, ...args], { env: { ...process.env, CADENZA_STORE: '' } }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
    });
  });
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'cadenza-cli-'));
  store = `sqlite:${join(dir, 'store.db')}`;
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('cadenza CLI', () => {
  it('demo --json prints one JSON summary and shows a compensated rollback', async () => {
    const result = await cadenza('demo', '-n', '12', '--seed', '5', '--latency', '0', '--rejection-rate', '0.5', '--json');
    expect(result.code).toBe(0);
    const summary = JSON.parse(result.stdout) as Record<string, unknown> & { workflowIds: Record<string, string[]>; compensatedExample?: { rolledBack: { stepId: string }[] } };
    expect(summary.total).toBe(12);
    expect((summary.completed as number) + (summary.compensated as number) + (summary.failed as number) + (summary.compensationFailed as number)).toBe(12);
    expect(Object.values(summary.workflowIds).flat()).toHaveLength(12);
    expect(summary.compensated).toBeGreaterThan(0);
    expect(summary.compensatedExample?.rolledBack.map((s) => s.stepId)).toContain('risk-assessment');

    // The same workflows are visible through status and history.
    const id = summary.workflowIds.compensated![0]!;
    const status = await cadenza('status', id, '--json');
    expect(status.code).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject({ workflowId: id, status: 'compensated', name: 'trading-pipeline' });
    const history = await cadenza('history', id, '--json');
    const events = (JSON.parse(history.stdout) as { events: { type: string; revision: number }[] }).events;
    expect(events[0]).toMatchObject({ type: 'WorkflowStarted', revision: 0 });
    expect(events.map((e) => e.revision)).toEqual(events.map((_, i) => i));
    expect(events.at(-1)?.type).toBe('WorkflowCompensated');
  }, 60_000);

  it('run follows one workflow; a compensated run exits 4 with the reason', async () => {
    const ok = await cadenza('run', 'trading-pipeline', '--input', '{"symbol":"ACME","quantity":5,"account":"a-1"}', '--latency', '0', '--workflow-id', 'cli-run-ok', '--json');
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ workflowId: 'cli-run-ok', status: 'completed', progress: 100 });

    const rolledBack = await cadenza('run', 'trading-pipeline', '--input', '{"symbol":"ACME","quantity":5,"account":"a-1"}', '--latency', '0', '--post-trade-failure-rate', '1', '--workflow-id', 'cli-run-comp');
    expect(rolledBack.code).toBe(4);
    expect(rolledBack.stderr).toMatch(/workflow cli-run-comp ended compensated: .*post-trade-check/);
  }, 60_000);

  it('refuses bad input with exit 2 naming the field, and writes nothing', async () => {
    const bad = await cadenza('run', 'trading-pipeline', '--input', '{"symbol":"acme lower","quantity":5,"account":"a-1"}', '--workflow-id', 'never-started');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/symbol/);
    const malformed = await cadenza('run', 'trading-pipeline', '--input', '{not json');
    expect(malformed.code).toBe(2);
    expect(malformed.stderr).toMatch(/not valid JSON/);
    const missing = await cadenza('status', 'never-started');
    expect(missing.code).toBe(3);
    expect(missing.stderr.trim()).toBe('cadenza: Unknown workflow "never-started"');
    const unknownSaga = await cadenza('run', 'no-such-saga', '--input', '{}');
    expect(unknownSaga.code).toBe(3);
    // An unreachable EventStoreDB is a one-line error at once, not a wait for it to come back.
    const unreachable = await cadenzaOn('esdb://127.0.0.1:1?tls=false', 'demo', '-n', '1');
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr).toMatch(/^cadenza: Cannot reach the event store esdb:\/\/127\.0\.0\.1:1\?tls=false: .*ECONNREFUSED/);
  }, 60_000);
});
