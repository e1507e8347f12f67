/**
 * The backlog from the command line, as real processes: `run --no-wait --priority N` stores the start
 * queued (no worker is running), `cadenza backlog` shows it from the store (table and --json), `list
 * --status queued` lists it, and a priority out of range is bad input (exit 2, one line, nothing written).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cadenza } from './support.js';

let dir = '';
let store = '';
let definition = '';

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'cadenza-backlog-cli-'));
  store = `sqlite:${join(dir, 'store.db')}`;
  definition = join(dir, 'job.json');
  writeFileSync(definition, JSON.stringify({ name: 'job', steps: [{ id: 'work', action: 'work', capability: 'work' }] }));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('cadenza backlog', () => {
  it('shows queued starts per priority, highest first, from the store', async () => {
    const empty = await cadenza('--store', store, 'backlog');
    expect(empty).toMatchObject({ code: 0, stdout: 'backlog empty: no queued workflows\n' });

    for (const [id, priority] of [['b-1', '7'], ['b-2', '-3'], ['b-3', '7']] as const) {
      const started = await cadenza('--store', store, '--json', 'run', definition, '--no-wait', '--input', '{}', '--workflow-id', id, '--priority', priority);
      expect(started.code, started.stderr).toBe(0);
      expect(JSON.parse(started.stdout)).toEqual({ workflowId: id, name: 'job', version: 1, priority: Number(priority), status: 'queued' });
    }
    const plain = await cadenza('--store', store, '--json', 'run', definition, '--no-wait', '--input', '{}', '--workflow-id', 'b-4');
    expect(JSON.parse(plain.stdout)).toMatchObject({ priority: 0, status: 'queued' });

    const json = await cadenza('--store', store, '--json', 'backlog');
    expect(json.code, json.stderr).toBe(0);
    const view = JSON.parse(json.stdout) as { depth: number; oldestAgeMs: number; priorities: { priority: number; depth: number }[] };
    expect(view.depth).toBe(4);
    expect(view.oldestAgeMs).toBeGreaterThanOrEqual(0);
    expect(view.priorities.map(({ priority, depth }) => [priority, depth])).toEqual([[7, 2], [0, 1], [-3, 1]]);

    const table = await cadenza('--store', store, 'backlog');
    const rows = table.stdout.trim().split('\n').map((line) => line.split(/\s{2,}/));
    expect(rows.map((row) => row.slice(0, 2))).toEqual([['priority', 'queued'], ['7', '2'], ['0', '1'], ['-3', '1'], ['all', '4']]);

    const list = await cadenza('--store', store, '--json', 'list', '--status', 'queued');
    expect((JSON.parse(list.stdout) as { workflows: { workflowId: string; status: string }[] }).workflows.map((w) => w.status)).toEqual(['queued', 'queued', 'queued', 'queued']);
  }, 120_000);

  it('refuses a priority out of range: exit 2, one line naming it, nothing written', async () => {
    const refused = await cadenza('--store', store, 'run', definition, '--no-wait', '--input', '{}', '--workflow-id', 'b-bad', '--priority', '101');
    expect(refused.code).toBe(2);
    expect(refused.stdout).toBe('');
    expect(refused.stderr.trim().split('\n')).toHaveLength(1);
    expect(refused.stderr).toMatch(/--priority.*expected a whole number from -100 to 100, got "101"/);
    const status = await cadenza('--store', store, 'status', 'b-bad');
    expect(status.code).not.toBe(0);
  }, 60_000);
});
