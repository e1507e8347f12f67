/**
 * Counters, gauges and histograms tallied as plain numbers per label set, and handed to a prom-client
 * registry only when it renders a scrape. prom-client's own `inc`/`observe` validate and hash the
 * label object at every call (2-3 µs); `/metrics` beside an engine counts several events of every
 * step, and that cost fell on the engine's thread (docs/benchmarks.md, "the cost of /metrics").
 * Here a call finds its label set through one map per label and adds to a number. Counters and gauges render
 * through prom-client's own classes (set from the tallies in their `collect`); a histogram hands the
 * registry the values prom-client's histogram would (cumulative `_bucket` series with `le`, `_sum`,
 * `_count`), since that one takes observations one by one only: the text is the same.
 */
import { Counter, Gauge, type Metric, type Registry } from 'prom-client';

type Labels = Record<string, string>;

/**
 * One label set's figures, found through one map per label: a lookup walks the values as given and
 * builds no key (joining them cost a string per counted event). At most three labels, passed as
 * arguments rather than an array: a rest parameter cost an array per counted event.
 */
class Series<T extends object> {
  #root = new Map<string, unknown>();
  readonly #entries: { readonly labels: Labels; figures: T }[] = [];

  constructor(
    private readonly labelNames: readonly string[],
    private readonly fresh: () => T,
  ) {
    if (labelNames.length > 3) throw new Error(`a tallied metric has at most 3 labels, got ${labelNames.length} (${labelNames.join(', ')})`);
  }

  /** The figures of the label set with these values, in `labelNames` order (created at first use). */
  of(first = '', second = '', third = ''): T {
    const depth = this.labelNames.length;
    let level = this.#root;
    if (depth > 1) level = childOf(level, first);
    if (depth > 2) level = childOf(level, second);
    const key = depth === 0 ? '' : depth === 1 ? first : depth === 2 ? second : third;
    let entry = level.get(key) as { readonly labels: Labels; figures: T } | undefined;
    if (entry === undefined) {
      const values = [first, second, third];
      const labels: Labels = {};
      this.labelNames.forEach((name, i) => (labels[name] = values[i]!));
      entry = { labels, figures: this.fresh() };
      level.set(key, entry);
      this.#entries.push(entry);
    }
    return entry.figures;
  }

  entries(): Iterable<{ readonly labels: Labels; figures: T }> {
    return this.#entries;
  }

  /** Every label set's values and figures, as plain data (a checkpoint of /metrics' fold). */
  saved(): [string[], T][] {
    return this.#entries.map(({ labels, figures }) => [this.labelNames.map((name) => labels[name] ?? ''), structuredClone(figures)]);
  }

  /** Back to what `saved` gave, replacing every figure. */
  restore(saved: readonly (readonly [readonly string[], T])[]): void {
    this.#root = new Map();
    this.#entries.length = 0;
    for (const [values, figures] of saved) Object.assign(this.of(...values), structuredClone(figures));
  }
}

/** The map one level down for `value`, made at first use. */
function childOf(level: Map<string, unknown>, value: string): Map<string, unknown> {
  let next = level.get(value) as Map<string, unknown> | undefined;
  if (next === undefined) level.set(value, (next = new Map()));
  return next;
}

interface Family {
  readonly name: string;
  readonly help: string;
  readonly labelNames: readonly string[];
  readonly registry: Registry;
}

/** A counter (`kind: 'counter'`) or a gauge that goes up and down (`'gauge'`): `add(n, ...labelValues)`. */
export class TalliedNumber {
  readonly #series: Series<{ value: number }>;

  constructor({ name, help, labelNames, registry }: Family, kind: 'counter' | 'gauge') {
    const series = (this.#series = new Series(labelNames, () => ({ value: 0 })));
    const collect = function (this: Counter | Gauge) {
      this.reset();
      for (const { labels, figures } of series.entries()) {
        if (this instanceof Counter) this.inc(labels, figures.value);
        else this.set(labels, figures.value);
      }
    };
    const options = { name, help, labelNames: [...labelNames], registers: [registry], collect };
    if (kind === 'counter') new Counter(options);
    else new Gauge(options);
  }

  /** Adds `amount` to the label set with these values, in `labelNames` order. */
  add(amount: number, first?: string, second?: string, third?: string): void {
    this.#series.of(first, second, third).value += amount;
  }

  saved(): [string[], { value: number }][] {
    return this.#series.saved();
  }

  restore(saved: [string[], { value: number }][]): void {
    this.#series.restore(saved);
  }
}

/** A histogram with fixed buckets: `observe(value, ...labelValues)`. */
export class TalliedHistogram {
  readonly #series: Series<{ counts: number[]; sum: number; count: number }>;
  readonly #bounds: readonly number[];

  constructor(family: Family, buckets: readonly number[]) {
    const bounds = (this.#bounds = [...buckets].sort((a, b) => a - b));
    const series = (this.#series = new Series(family.labelNames, () => ({ counts: bounds.map(() => 0), sum: 0, count: 0 })));
    // What the registry reads: `getForPromString` for the text (the series' labels as shared labels
    // after `le`, as prom-client writes them), `get` for JSON (the labels merged), as prom-client's histogram.
    const values = () =>
      [...series.entries()].flatMap(({ labels, figures }) => {
        let cumulative = 0;
        return [
          ...bounds.map((le, i) => ({ labels: { le } as Record<string, string | number>, sharedLabels: labels, value: (cumulative += figures.counts[i]!), metricName: `${family.name}_bucket` })),
          { labels: { le: '+Inf' }, sharedLabels: labels, value: figures.count, metricName: `${family.name}_bucket` },
          { labels: {}, sharedLabels: labels, value: figures.sum, metricName: `${family.name}_sum` },
          { labels: {}, sharedLabels: labels, value: figures.count, metricName: `${family.name}_count` },
        ];
      });
    const about = { name: family.name, help: family.help, type: 'histogram', aggregator: 'sum' } as const;
    const rendered = {
      ...about,
      getForPromString: async () => ({ ...about, values: values() }),
      get: async () => ({ ...about, values: values().map(({ labels, sharedLabels, ...rest }) => ({ ...rest, labels: { ...labels, ...sharedLabels } })) }),
    };
    family.registry.registerMetric(rendered as unknown as Metric);
  }

  saved(): [string[], { counts: number[]; sum: number; count: number }][] {
    return this.#series.saved();
  }

  restore(saved: [string[], { counts: number[]; sum: number; count: number }][]): void {
    this.#series.restore(saved);
  }

  /** One observation for the label set with these values, in `labelNames` order. */
  observe(value: number, first?: string, second?: string, third?: string): void {
    const figures = this.#series.of(first, second, third);
    figures.sum += value;
    figures.count += 1;
    // The first bucket whose bound holds the value; above the last, only +Inf (the count) has it.
    const bounds = this.#bounds;
    for (let i = 0; i < bounds.length; i++) {
      if (value <= bounds[i]!) {
        figures.counts[i]! += 1;
        return;
      }
    }
  }
}
