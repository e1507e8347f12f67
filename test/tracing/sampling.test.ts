/**
 * Sampling through a real OpenTelemetry SDK (its own file: the SDK is registered globally, with a
 * sampler that keeps about half of the workflows by trace id). The sampler is asked once per
 * workflow, at its start: a kept workflow has every span, a dropped one none. A dropped workflow's
 * calls make no span of their own (no non-recording span per call): each carries the dropped
 * workflow span's context (flags 00), so its agents drop it too (docs/operations.md, "Sampling").
 */
import { propagation, trace, type Context } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { BasicTracerProvider, InMemorySpanExporter, ParentBasedSampler, SimpleSpanProcessor, TraceIdRatioBasedSampler, type Sampler, type SamplingResult } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { attributes, traceIdOf } from '../../src/saga/runtime/tracing.js';
import { workflow } from '../../src/workflow/index.js';
import { agent, startTestEngine } from '../runtime/support.js';

const ratio = new TraceIdRatioBasedSampler(0.5);
/** Questions the SDK asked the sampler, by trace id. */
const asked = new Map<string, number>();
const counting: Sampler = {
  shouldSample(context: Context, traceId: string): SamplingResult {
    asked.set(traceId, (asked.get(traceId) ?? 0) + 1);
    return ratio.shouldSample(context, traceId);
  },
  toString: () => 'counting ratio 0.5',
};
const exporter = new InMemorySpanExporter();
// As docs/operations.md tells users to sample: the ratio decides for the workflow's remote (virtual) root.
const provider = new BasicTracerProvider({
  sampler: new ParentBasedSampler({ root: counting, remoteParentSampled: counting }),
  spanProcessors: [new SimpleSpanProcessor(exporter)],
});

beforeAll(() => {
  trace.setGlobalTracerProvider(provider);
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
});

afterAll(async () => {
  await provider.shutdown();
  trace.disable();
  propagation.disable();
});

const pipeline = workflow('pipeline')
  .step({ id: 'a', action: 'a', capability: 'work' })
  .step({ id: 'b', action: 'b', capability: 'work', dependsOn: ['a'] })
  .step({ id: 'c', action: 'c', capability: 'work', dependsOn: ['b'] })
  .build();

describe('tracing with a sampler', () => {
  it('asks the sampler once per workflow: a kept workflow has all its spans; a dropped one none, and its calls carry its context with flags 00', async () => {
    const traceparents = new Map<string, string[]>();
    const record = (workflowId: string, traceparent: string | undefined) => traceparents.set(workflowId, [...(traceparents.get(workflowId) ?? []), traceparent ?? 'none']);
    const handler = async (_input: unknown, ctx: { call: { workflowId: string; trace?: Record<string, string> } }) => {
      record(ctx.call.workflowId, ctx.call.trace?.traceparent);
      return {};
    };
    const engine = await startTestEngine({ agents: [agent('worker-1', ['work'], { a: handler, b: handler, c: handler })] });
    const ids = Array.from({ length: 24 }, (_, i) => `sampled-${i}`);
    try {
      for (const id of ids) await engine.runtime.startWorkflow(pipeline, {}, { workflowId: id });
      for (const id of ids) expect((await engine.runtime.waitForEnd(id)).status).toBe('completed');
    } finally {
      await engine.stop();
    }

    const spans = exporter.getFinishedSpans();
    const kept = ids.filter((id) => spans.some((span) => span.attributes[attributes.workflowId] === id));
    const dropped = ids.filter((id) => !kept.includes(id));
    // 24 trace ids at 1/2: both kinds are there (the ids are fixed, so this is not left to chance).
    expect(kept.length).toBeGreaterThan(0);
    expect(dropped.length).toBeGreaterThan(0);
    for (const id of kept) {
      const mine = spans.filter((span) => span.attributes[attributes.workflowId] === id);
      expect(mine.map((span) => span.name).sort()).toEqual(['step a', 'step b', 'step c', 'workflow pipeline']);
      // The workflow span is asked; its calls are its children, decided by the SDK's parent-based rule.
      expect(asked.get(traceIdOf(id))).toBe(1);
      for (const traceparent of traceparents.get(id) ?? []) expect(traceparent).toMatch(new RegExp(`^00-${traceIdOf(id)}-[0-9a-f]{16}-01$`));
    }
    for (const id of dropped) {
      expect(asked.get(traceIdOf(id))).toBe(1);
      // Every call carried the dropped workflow span's own context (one span id, not one per call),
      // so an instrumented agent drops it too.
      const sent = traceparents.get(id) ?? [];
      expect(sent).toHaveLength(3);
      expect(new Set(sent).size).toBe(1);
      expect(sent[0]).toMatch(new RegExp(`^00-${traceIdOf(id)}-[0-9a-f]{16}-00$`));
    }
  });
});
