/**
 * docs/operations.md, "What to alert on", held to what /metrics serves: every series an alert's
 * PromQL names exists, with the labels the expression groups or selects by, and the status values
 * it matches; the lag gauge stops counting at 1,000. A worker's server (an engine beside it) over a
 * real socket; the doc's table is read from the file, so an alert added there is checked too. And
 * the `/metrics` checkpoint: saved every 30 s of folding (a clock the test moves), the newest kept.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { MetricsCheckpoint } from '../../src/api/metrics-checkpoint.js';
import { buildApiServer, startApiServer, type ApiServer } from '../../src/api/server.js';
import { openReadModelDb } from '../../src/projections/readmodel-db.js';
import { openStore } from '../../src/store/open.js';
import { populate } from '../projections/fixtures/populate.js';
import { waitFor } from '../support/wait-for.js';
import { checkSeries, families, seriesIn, workerWithBothEnds } from './promql-series.js';
import { streamEvents, type Fixture } from './support.js';

const doc = readFileSync(fileURLToPath(new URL('../../docs/operations.md', import.meta.url)), 'utf8');

/** The alert table's rows: name and PromQL (the first two cells). */
function alertRows(): { alert: string; expression: string }[] {
  const table = doc.slice(doc.indexOf('## What to alert on'), doc.indexOf('## Tracing'));
  return table.split('\n').filter((line) => line.startsWith('| ') && !line.startsWith('| alert') && !line.startsWith('|---')).map((line) => {
    const [alert = '', expression = ''] = line.slice(2).split(' | ');
    return { alert, expression: expression.replaceAll('\\|', '|') };
  });
}

let worker: Awaited<ReturnType<typeof workerWithBothEnds>>;
let fixture: Fixture;
let server: ApiServer;

beforeAll(async () => {
  worker = await workerWithBothEnds();
  ({ fixture, server } = worker);
}, 30_000);

afterAll(async () => {
  await worker?.close();
});

describe('docs/operations.md: the alerts query what /metrics serves', () => {
  it('has every series an alert names, with the labels it groups and selects by', async () => {
    const rows = alertRows();
    expect(rows.map((row) => row.alert)).toContain('workflows failing');
    expect(rows.length).toBeGreaterThanOrEqual(14);
    // The metrics fold the log in the background: scrape until both workflows are counted.
    let text = '';
    await waitFor(async () => {
      text = await (await fetch(`${server.url}/metrics`)).text();
      return ['compensated', 'completed'].every((status) => new RegExp(`cadenza_workflows_ended_total\\{[^}]*status="${status}"[^}]*\\} 1`).test(text));
    }, { what: "/metrics to count both workflows' ends" });
    const served = families(text);
    const unlabelled: string[] = [];
    const withoutOurs: string[] = [];
    for (const { alert, expression } of rows) {
      if (seriesIn(expression).length === 0) withoutOurs.push(alert);
      const check = checkSeries(expression, served);
      expect(check.problems, `alert "${alert}"`).toEqual([]);
      unlabelled.push(...check.unlabelled);
      // Every status value an alert matches is one the counter uses.
      for (const { metric, label, values } of check.selected) {
        if (label !== 'status') continue;
        const used = new Set(['completed', 'failed', 'compensated', 'compensationFailed', 'cancelled', 'resolved']);
        for (const value of values) expect(used.has(value), `alert "${alert}": status "${value}"`).toBe(true);
        expect(served.get(metric)!.samples.map((s) => s.status)).toContain('compensated');
      }
    }
    // Only Prometheus's own `up` is not ours.
    expect(withoutOurs).toEqual(['scrape down']);
    // Only what nothing here made happen (no step timed out, no circuit moved) goes unchecked for its labels.
    expect(unlabelled).toEqual(['cadenza_step_timeouts_total', 'cadenza_agent_circuit_state']);
  });
});

describe('docs/operations.md: "the gauge counts up to 1,000"', () => {
  it('shows a read model 1,000 behind when it is further behind', async () => {
    const store = await openStore('memory:');
    // Over a thousand workflow events that no read model has folded yet.
    await populate(store, { workflows: 80, seed: 5 });
    const behind = await startApiServer({ store });
    try {
      const text = await (await fetch(`${behind.url}/metrics`)).text();
      const lags = [...text.matchAll(/^cadenza_projection_lag_events\{projection="([^"]+)"\} (\d+)$/gm)].map((m) => [m[1], Number(m[2])]);
      expect(lags).toContainEqual(['workflow-status', 1000]);
    } finally {
      await behind.close();
      await store.close();
    }
  });
});

describe('docs/operations.md: the /metrics checkpoint, "saved every 30 s and when it stops"; "the newest wins"', () => {
  it('saves the fold once 30 s have passed since the last save, not before', async () => {
    const clock = { now: 1_000 };
    vi.spyOn(performance, 'now').mockImplementation(() => clock.now);
    const db = openReadModelDb(':memory:');
    const { app } = await buildApiServer({ store: fixture.store, readModels: db });
    const checkpoint = new MetricsCheckpoint(db);
    /** The commit positions of a workflow's events: a save made while folding it lands on one of them. */
    const commitsOf = async (workflowId: string) => (await streamEvents(fixture.store, workflowId)).map((event) => event.position.commit);
    const runAndScrape = async (workflowId: string) => {
      await fixture.engine.start('order', { amount: 3 }, { workflowId });
      await fixture.engine.wait(workflowId);
      // Scraped until the fold has counted it: the clock moves only between workflows.
      let completed = 0;
      for await (const event of fixture.store.readAll({ filter: { eventTypePrefix: ['WorkflowCompleted'] } })) if (event.type === 'WorkflowCompleted') completed++;
      const counted = new RegExp(`^cadenza_workflows_ended_total\\{[^}]*status="completed"[^}]*\\} ${completed}$`, 'm');
      await waitFor(async () => counted.test((await app.inject({ method: 'GET', url: '/metrics' })).body), { what: `/metrics to count ${workflowId}` });
    };
    try {
      await runAndScrape('periodic-1');
      expect(checkpoint.load()).toBeUndefined();
      clock.now = 30_000 - 1;
      await runAndScrape('periodic-2');
      expect(checkpoint.load()).toBeUndefined();
      clock.now = 30_000;
      await runAndScrape('periodic-3');
      // Saved at the first event folded once 30 s had passed, then not again within 30 s.
      const saved = checkpoint.load()?.position.commit;
      expect(await commitsOf('periodic-3')).toContain(saved);
      clock.now = 60_000 - 1;
      await runAndScrape('periodic-4');
      expect(checkpoint.load()?.position.commit).toBe(saved);
      clock.now = 60_000;
      await runAndScrape('periodic-5');
      expect(await commitsOf('periodic-5')).toContain(checkpoint.load()?.position.commit);
    } finally {
      vi.restoreAllMocks();
      await app.close();
      db.close();
    }
  });

  it('keeps the newest of the snapshots several servers save in one read-model database', () => {
    const db = openReadModelDb(':memory:');
    try {
      const one = new MetricsCheckpoint(db);
      const other = new MetricsCheckpoint(db);
      const fold = (commit: bigint) => ({ version: 1, position: { commit, prepare: commit }, firstEventId: 'first', state: { at: Number(commit) } });
      one.save(fold(20n));
      other.save(fold(10n));
      expect(one.load()).toEqual(fold(20n));
      other.save(fold(30n));
      expect(one.load()).toEqual(fold(30n));
      // Another store's snapshot (its first event differs) replaces it whatever its position.
      one.save({ ...fold(5n), firstEventId: 'another' });
      expect(other.load()?.firstEventId).toBe('another');
    } finally {
      db.close();
    }
  });
});
