/**
 * The tallied metrics of `/metrics` (src/api/tallies.ts) render what prom-client's own counter,
 * gauge and histogram render for the same calls, the same text: prom-client is the oracle.
 */
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { TalliedHistogram, TalliedNumber } from '../../src/api/tallies.js';

const buckets = [0.001, 0.01, 0.1, 1];
/** Values on, between, below and above the bounds; label values with the characters the text format escapes. */
const observations: [number, string, string][] = [
  [0.0005, 'a', 'x'],
  [0.001, 'a', 'x'],
  [0.01, 'a', 'y'],
  [0.05, 'b "quoted"', 'x'],
  [1, 'a', 'x'],
  [7.5, 'a', 'x'],
  [0.2, 'back\\slash\nnewline', 'y'],
];

const parsed = async (registry: Registry) => parsePrometheusTextFormat(await registry.metrics()).sort((a, b) => a.name.localeCompare(b.name));

describe('tallied metrics', () => {
  it('render as prom-client renders the same counts, gauge moves and observations', async () => {
    const tallied = new Registry();
    const histogram = new TalliedHistogram({ name: 'h_seconds', help: 'h', labelNames: ['one', 'two'], registry: tallied }, buckets);
    const unlabelled = new TalliedHistogram({ name: 'u_seconds', help: 'u', labelNames: [], registry: tallied }, buckets);
    const counter = new TalliedNumber({ name: 'c_total', help: 'c', labelNames: ['one', 'two'], registry: tallied }, 'counter');
    const gauge = new TalliedNumber({ name: 'g', help: 'g', labelNames: ['one'], registry: tallied }, 'gauge');
    // Three labels, as the fold's per step and agent figures: the deepest lookup.
    const three = new TalliedNumber({ name: 't_total', help: 't', labelNames: ['one', 'two', 'three'], registry: tallied }, 'counter');

    const oracle = new Registry();
    const oHistogram = new Histogram({ name: 'h_seconds', help: 'h', labelNames: ['one', 'two'], buckets, registers: [oracle] });
    const oUnlabelled = new Histogram({ name: 'u_seconds', help: 'u', buckets, registers: [oracle] });
    const oCounter = new Counter({ name: 'c_total', help: 'c', labelNames: ['one', 'two'], registers: [oracle] });
    const oGauge = new Gauge({ name: 'g', help: 'g', labelNames: ['one'], registers: [oracle] });
    const oThree = new Counter({ name: 't_total', help: 't', labelNames: ['one', 'two', 'three'], registers: [oracle] });

    for (const [value, one, two] of observations) {
      histogram.observe(value, one, two);
      unlabelled.observe(value);
      counter.add(1, one, two);
      gauge.add(1, one);
      oHistogram.observe({ one, two }, value);
      oUnlabelled.observe(value);
      oCounter.inc({ one, two });
      oGauge.inc({ one });
      three.add(value, one, two, one);
      oThree.inc({ one, two, three: one }, value);
    }
    gauge.add(-1, 'a');
    oGauge.dec({ one: 'a' });

    expect(await tallied.metrics()).toEqual(await oracle.metrics());
    // As JSON too (what registry.getMetricsAsJSON hands a test), exemplars aside: none are kept here.
    const asJson = async (registry: Registry): Promise<unknown> => JSON.parse(JSON.stringify(await registry.getMetricsAsJSON(), (key, value: unknown) => (key === 'exemplar' ? undefined : value)));
    expect(await asJson(tallied)).toEqual(await asJson(oracle));
    const [mine, theirs] = [await parsed(tallied), await parsed(oracle)];
    expect(mine.map((family) => family.name)).toEqual(['c_total', 'g', 'h_seconds', 't_total', 'u_seconds']);
    expect(mine).toEqual(theirs);
    // Rendered again, nothing is counted twice.
    expect(await parsed(tallied)).toEqual(theirs);
  });

  it('refuse more than three labels, naming them', () => {
    expect(() => new TalliedNumber({ name: 'w_total', help: 'w', labelNames: ['a', 'b', 'c', 'd'], registry: new Registry() }, 'counter')).toThrow('at most 3 labels, got 4 (a, b, c, d)');
  });

  it('render a family nobody counted yet as prom-client does: its help and type, no series', async () => {
    const tallied = new Registry();
    new TalliedHistogram({ name: 'h_seconds', help: 'h', labelNames: ['one'], registry: tallied }, buckets);
    new TalliedNumber({ name: 'c_total', help: 'c', labelNames: ['one'], registry: tallied }, 'counter');
    const oracle = new Registry();
    new Histogram({ name: 'h_seconds', help: 'h', labelNames: ['one'], buckets, registers: [oracle] });
    new Counter({ name: 'c_total', help: 'c', labelNames: ['one'], registers: [oracle] });
    expect(await tallied.metrics()).toEqual(await oracle.metrics());
    // As JSON too (what registry.getMetricsAsJSON hands a test), exemplars aside: none are kept here.
    const asJson = async (registry: Registry): Promise<unknown> => JSON.parse(JSON.stringify(await registry.getMetricsAsJSON(), (key, value: unknown) => (key === 'exemplar' ? undefined : value)));
    expect(await asJson(tallied)).toEqual(await asJson(oracle));
  });
});
