/**
 * Holds PromQL written for users (docs/operations.md's alerts, docs/grafana's dashboard) to what
 * /metrics serves: every series it names exists, histograms are histograms, and the labels it groups
 * or selects by are on the samples. Read from a scrape's text, not from our code's metric list.
 */
import { startApiServer, type ApiServer } from '../../src/api/server.js';
import { orderFixture, type Fixture } from './support.js';

/** Families of the Prometheus text format: type and the samples' label sets. */
export type Families = Map<string, { type: string; samples: Record<string, string>[] }>;

export function families(text: string): Families {
  const found: Families = new Map();
  for (const line of text.split('\n')) {
    const typed = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (typed) found.set(typed[1]!, { type: typed[2]!, samples: [] });
    const sample = /^([a-z_]+?)(?:_bucket|_sum|_count)?(?:\{(.*)\})? \S+$/.exec(line);
    if (!sample || line.startsWith('#')) continue;
    const family = found.get(sample[1]!) ?? found.get(line.split(/[{ ]/)[0]!);
    const labels = Object.fromEntries([...(sample[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1]!, m[2]!]));
    family?.samples.push(labels);
  }
  return found;
}

/** The series of ours (and the process's) that an expression names. */
export function seriesIn(expression: string): string[] {
  return [...new Set([...expression.matchAll(/\b(?:cadenza|nodejs|process)_[a-z0-9_]+/g)].map((m) => m[0]))];
}

export interface SeriesCheck {
  /** What does not hold, one line each, naming the series. */
  readonly problems: string[];
  /** Series with labels to check but no samples yet (nothing here made them happen). */
  readonly unlabelled: string[];
  /** Label selections `label="value"` or `=~"a|b"` on each series, for checks of the values. */
  readonly selected: { metric: string; label: string; values: string[] }[];
}

export function checkSeries(expression: string, served: Families): SeriesCheck {
  const problems: string[] = [];
  const unlabelled: string[] = [];
  const selectedAll: SeriesCheck['selected'] = [];
  // Labels grouped by, and labels selected on; `le` is the histogram's, `instance` and `job` Prometheus's.
  const grouped = [...expression.matchAll(/\bby \(([^)]*)\)/g)].flatMap((m) => m[1]!.split(',').map((l) => l.trim()));
  for (const metric of seriesIn(expression)) {
    const family = served.get(metric.replace(/_bucket$/, ''));
    if (!family) {
      problems.push(`${metric} is not served by /metrics`);
      continue;
    }
    if (metric.endsWith('_bucket') && family.type !== 'histogram') problems.push(`${metric} of a non-histogram`);
    const selected = [...expression.matchAll(new RegExp(`${metric}\\{([^}]*)\\}`, 'g'))].flatMap((m) => [...m[1]!.matchAll(/(\w+)\s*=~?\s*"([^"]*)"/g)]);
    for (const [, label, values] of selected) selectedAll.push({ metric, label: label!, values: values!.split('|') });
    const labels = [...grouped, ...selected.map((m) => m[1]!)].filter((l) => !['le', 'instance', 'job'].includes(l));
    if (labels.length === 0) continue;
    if (family.samples.length === 0) {
      unlabelled.push(metric);
      continue;
    }
    for (const label of labels) if (!family.samples.some((s) => label in s)) problems.push(`${metric} has no label ${label}`);
  }
  return { problems, unlabelled, selected: selectedAll };
}

/**
 * A worker's API server (an engine beside it) over a real socket, its store holding one completed
 * order and one compensated (its shipping fails): the counters have samples to label.
 */
export async function workerWithBothEnds(): Promise<{ readonly fixture: Fixture; readonly server: ApiServer; close(): Promise<void> }> {
  const fixture = await orderFixture();
  for (const [id, amount] of [['ok-1', 5], ['refund-1', 500]] as const) {
    await fixture.engine.start('order', { amount }, { workflowId: id });
    await fixture.engine.wait(id);
  }
  const server = await startApiServer({ store: fixture.store, engine: fixture.engine });
  return {
    fixture,
    server,
    async close() {
      await server.close();
      await fixture.close();
    },
  };
}
