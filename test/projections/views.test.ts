import { describe, expect, it } from 'vitest';
import { bucketOf, bucketUpperBound, emptyHistogram, percentile, record, summarise } from '../../projections/shared/histogram.js';
import type { DefinitionStatsDoc, WorkflowStatusDoc } from '../../projections/workflow-status/fold.js';
import { estimateCompletion, workflowStatusView } from '../../projections/workflow-status/view.js';

describe('latency histogram', () => {
  it('has contiguous buckets whose bounds hold their values', () => {
    let previous = -1;
    const broken: number[] = [];
    for (let v = 0; v < 300_000; v += 1) {
      const bucket = bucketOf(v);
      if ((bucket !== previous && bucket !== previous + 1) || bucketUpperBound(bucket) < v) broken.push(v);
      if (bucket !== previous && previous >= 0 && bucketUpperBound(previous) !== v - 1) broken.push(v);
      previous = bucket;
    }
    expect(broken).toEqual([]);
  });

  it('gives percentiles within a few percent, from a bounded number of buckets', () => {
    let h = emptyHistogram;
    for (let v = 1; v <= 10_000; v++) h = record(h, v);
    for (const p of [50, 95, 99]) {
      const exact = (p / 100) * 10_000;
      expect(Math.abs(percentile(h, p)! - exact) / exact).toBeLessThan(0.04);
    }
    expect(Object.keys(h.buckets).length).toBeLessThan(300);
    expect(summarise(h)).toMatchObject({ count: 10_000, mean: 5000.5, max: 10_000 });
    expect(summarise(emptyHistogram)).toMatchObject({ count: 0, p50: undefined });
  });
});

describe('workflow status view', () => {
  const step = (id: string, dependsOn: string[], status: WorkflowStatusDoc['steps'][number]['status'], extra: object = {}) =>
    ({ id, dependsOn, status, attempt: status === 'pending' ? 0 : 1, hasCompensation: false, compensation: 'none' as const, ...extra });
  const doc: WorkflowStatusDoc = {
    kind: 'workflow', workflowId: 'w', definitionName: 'd', definitionVersion: 1, definitionHash: 'h', status: 'running', priority: 0, revision: 4,
    startedAt: 0, updatedAt: 1_000,
    steps: [
      step('a', [], 'succeeded', { startedAt: 0, endedAt: 1_000 }),
      step('b', ['a'], 'running', { startedAt: 1_000, scheduledAt: 1_000 }),
      step('c', ['a'], 'pending'),
      step('d', ['b', 'c'], 'pending'),
    ],
  };
  const stats: DefinitionStatsDoc = {
    kind: 'definition', definitionName: 'd', workflows: { count: 0, totalMs: 0 },
    steps: { a: { count: 2, totalMs: 2_000 }, b: { count: 2, totalMs: 6_000 }, c: { count: 1, totalMs: 500 } },
  };

  it('estimates completion along the critical path from historical step durations', () => {
    // b runs 1000..4000; c 1500..2000; d has no history: the mean over all steps, (2000+6000+500)/5 = 1700.
    expect(estimateCompletion(doc, stats, 1_500)).toEqual({ at: new Date(5_700).toISOString(), remainingMs: 4_200, samples: 5 });
    expect(estimateCompletion(doc, undefined, 1_500)).toBeUndefined();
  });

  it('derives progress and counts', () => {
    const view = workflowStatusView(doc, stats, 1_500);
    expect(view).toMatchObject({ progress: 25, steps: { total: 4, completed: 1, running: 1, failed: 0 }, running: [{ stepId: 'b', attempt: 1 }] });
    expect(workflowStatusView({ ...doc, status: 'completed', endedAt: 9_000 }, stats, 10_000)).toMatchObject({ progress: 100, durationMs: 9_000 });
  });
});
