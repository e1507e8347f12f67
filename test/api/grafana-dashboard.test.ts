/**
 * docs/grafana/cadenza-dashboard.json, the dashboard docs/operations.md tells users to import: every
 * query names series a worker's /metrics serves (scraped over a real socket), with the labels it
 * groups and selects by; every panel reads the dashboard's Prometheus data source; the panels tile
 * the 24-column grid without overlapping.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiServer } from '../../src/api/server.js';
import { waitFor } from '../support/wait-for.js';
import { checkSeries, families, seriesIn, workerWithBothEnds } from './promql-series.js';

interface Panel {
  readonly id: number;
  readonly type: string;
  readonly title: string;
  readonly gridPos: { x: number; y: number; w: number; h: number };
  readonly datasource?: { type: string; uid: string };
  readonly targets?: { expr: string; refId: string; datasource?: { uid: string } }[];
}
const dashboard = JSON.parse(readFileSync(fileURLToPath(new URL('../../docs/grafana/cadenza-dashboard.json', import.meta.url)), 'utf8')) as {
  readonly uid: string;
  readonly panels: Panel[];
  readonly templating: { list: { name: string; type: string; query: unknown }[] };
};
const graphs = dashboard.panels.filter((panel) => panel.type !== 'row');

let worker: Awaited<ReturnType<typeof workerWithBothEnds>>;
let server: ApiServer;

beforeAll(async () => {
  worker = await workerWithBothEnds();
  server = worker.server;
}, 30_000);

afterAll(async () => {
  await worker?.close();
});

describe('docs/grafana/cadenza-dashboard.json', () => {
  it('queries only series /metrics serves, with the labels it uses', async () => {
    let text = '';
    await waitFor(async () => {
      text = await (await fetch(`${server.url}/metrics`)).text();
      return /cadenza_workflows_ended_total\{[^}]*status="compensated"[^}]*\} 1/.test(text);
    }, { what: '/metrics to count the compensated workflow' });
    const served = families(text);
    const unlabelled = new Set<string>();
    let queries = 0;
    for (const panel of graphs) {
      expect(panel.targets?.length, `panel "${panel.title}" has queries`).toBeGreaterThan(0);
      for (const target of panel.targets ?? []) {
        queries++;
        expect(seriesIn(target.expr).length, `panel "${panel.title}": ${target.expr}`).toBeGreaterThan(0);
        const check = checkSeries(target.expr, served);
        expect(check.problems, `panel "${panel.title}"`).toEqual([]);
        for (const metric of check.unlabelled) unlabelled.add(metric);
      }
    }
    expect(queries).toBeGreaterThanOrEqual(20);
    // The definition picker lists a label that the started counter has.
    const picker = dashboard.templating.list.find((variable) => variable.name === 'definition');
    expect(JSON.stringify(picker?.query)).toContain('label_values(cadenza_workflows_started_total, definition)');
    expect(served.get('cadenza_workflows_started_total')!.samples.some((s) => s.definition === 'order')).toBe(true);
    // Only what nothing here made happen (no step timed out, no circuit moved, no start queued, no
    // compensation failed) goes unchecked for its labels.
    expect([...unlabelled].sort()).toEqual(['cadenza_agent_circuit_state', 'cadenza_backlog_workflows', 'cadenza_compensation_failures_total', 'cadenza_step_timeouts_total']);
  });

  it('reads every query from its Prometheus data source variable and tiles the grid', () => {
    expect(dashboard.templating.list.find((variable) => variable.name === 'datasource')).toMatchObject({ type: 'datasource', query: 'prometheus' });
    const ids = new Set<number>();
    const cells = new Map<string, string>();
    for (const panel of dashboard.panels) {
      expect(ids.has(panel.id), `panel id ${panel.id} used once`).toBe(false);
      ids.add(panel.id);
      const { x, y, w, h } = panel.gridPos;
      expect(x + w, `panel "${panel.title}" fits 24 columns`).toBeLessThanOrEqual(24);
      for (let column = x; column < x + w; column++) {
        for (let line = y; line < y + h; line++) {
          const taken = cells.get(`${column},${line}`);
          expect(taken, `panel "${panel.title}" overlaps "${taken}"`).toBeUndefined();
          cells.set(`${column},${line}`, panel.title);
        }
      }
    }
    for (const panel of graphs) {
      expect(panel.datasource?.uid, panel.title).toBe('${datasource}');
      for (const target of panel.targets ?? []) expect(target.datasource?.uid, panel.title).toBe('${datasource}');
    }
  });
});
