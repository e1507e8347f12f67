/**
 * `/metrics` beside a runtime reads the log in rounds (docs/api.md, "Metrics"): not on every commit,
 * but every `roundMs`, and at once when a scrape asks. Here the rest between rounds is ten minutes, so
 * a scrape that answered with the right counts must have started its own round; and while nobody
 * scrapes, the log is not read at all, however much the engine appends.
 */
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiMetrics } from '../../src/api/metrics.js';
import type { SubscribeToAllOptions } from '../../src/store/port.js';
import { orderFixture, type Fixture } from './support.js';

const tenMinutes = 600_000;
let fixture: Fixture;
let metrics: ApiMetrics;
/** The metrics fold's reads of the log (its subscriptions with `skip`: the runtime's follower has its own). */
let rounds = 0;

beforeAll(async () => {
  fixture = await orderFixture();
  // Ended before the fold starts: only the log brings these.
  for (const id of ['earlier-1', 'earlier-2']) await fixture.engine.start('order', { amount: 10 }, { workflowId: id });
  for (const id of ['earlier-1', 'earlier-2']) await fixture.engine.wait(id);
  const store = fixture.store;
  const counting = new Proxy(store, {
    get(target, key, receiver) {
      if (key !== 'subscribeToAll') return Reflect.get(target, key, receiver) as unknown;
      return (options: SubscribeToAllOptions) => {
        const prefixes = options.filter && 'streamNamePrefix' in options.filter ? (options.filter.streamNamePrefix ?? []) : [];
        if (options.skip && prefixes.some((prefix) => prefix.startsWith('agent'))) rounds++;
        return target.subscribeToAll(options);
      };
    },
  });
  metrics = new ApiMetrics(counting, { runtime: fixture.engine.runtime, roundMs: tenMinutes, scrapeWaitMs: tenMinutes });
  metrics.start();
});

afterAll(async () => {
  await metrics?.stop();
  await fixture?.close();
});

const started = async (): Promise<number> => {
  const families = parsePrometheusTextFormat(await metrics.scrape());
  return families.find((family) => family.name === 'cadenza_workflows_started_total')?.metrics.reduce((sum, sample) => sum + Number(sample.value), 0) ?? 0;
};

describe('/metrics beside a runtime reads the log in rounds', () => {
  it('answers a scrape with every workflow counted, by a round of its own, not after the rest between rounds', async () => {
    for (const id of ['a', 'b', 'c']) await fixture.engine.start('order', { amount: 10 }, { workflowId: id });
    for (const id of ['a', 'b', 'c']) await fixture.engine.wait(id);
    expect(await started()).toBe(5);
  });

  it('reads nothing of the log between scrapes, however much the engine appends, then one round for the next scrape', async () => {
    await started();
    const before = rounds;
    for (const id of ['d', 'e', 'f', 'g']) await fixture.engine.start('order', { amount: 10 }, { workflowId: id });
    for (const id of ['d', 'e', 'f', 'g']) await fixture.engine.wait(id);
    expect(rounds).toBe(before);
    expect(await started()).toBe(9);
    expect(rounds).toBe(before + 1);
  });
});
