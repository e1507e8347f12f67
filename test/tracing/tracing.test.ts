/**
 * The runtime's spans through a real OpenTelemetry SDK (BasicTracerProvider, in-memory exporter,
 * W3C propagator, as an application registers them): a workflow with a
 * retried step, a step on an HTTP agent over a real socket and a failure that compensates gives one
 * workflow span with a child per attempt and compensation, in the trace its id derives, and the
 * HTTP agent receives its step span's `traceparent`. A second runtime that resumes a workflow after
 * the first stopped puts its spans in the same trace.
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { propagation, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { httpAgent } from '../../src/engine/index.js';
import { attributes, traceIdsOf } from '../../src/saga/runtime/tracing.js';
import { appendStart } from '../../src/saga/stream/index.js';
import { openStore } from '../../src/store/open.js';
import { workflow } from '../../src/workflow/index.js';
import { agent, startTestEngine } from '../runtime/support.js';

const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
let server: Server;
let agentUrl: string;
const received: IncomingHttpHeaders[] = [];

beforeAll(async () => {
  trace.setGlobalTracerProvider(provider);
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  server = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      received.push(request.headers);
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ ok: true, output: { booked: true } }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  agentUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/agent`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  await provider.shutdown();
  trace.disable();
  propagation.disable();
});

beforeEach(() => {
  exporter.reset();
  received.length = 0;
});

const fast = { maxAttempts: 2, initialDelayMs: 1, maxDelayMs: 1, jitter: 0 };

/** reserve (in-process, fails once) -> book (HTTP agent) -> pay (always fails): reserve and book are compensated. */
const trip = workflow('trip')
  .step({ id: 'reserve', action: 'reserve', capability: 'rooms', retry: fast, compensation: { action: 'release' } })
  .step({ id: 'book', action: 'book', capability: 'flights', dependsOn: ['reserve'], compensation: { action: 'cancel-booking' } })
  .step({ id: 'pay', action: 'pay', capability: 'payments', dependsOn: ['book'], retry: { maxAttempts: 1 } })
  .build();

const spanId = (span: ReadableSpan) => span.spanContext().spanId;
const named = (spans: ReadableSpan[], name: string) => spans.filter((s) => s.name === name).sort((a, b) => Number(a.attributes[attributes.attempt]) - Number(b.attributes[attributes.attempt]));

describe('tracing', () => {
  it('records a workflow span with a child span per attempt and compensation, and sends traceparent to HTTP agents', async () => {
    let reserveCalls = 0;
    const inProcessTraces: (string | undefined)[] = [];
    const engine = await startTestEngine({
      agents: [
        agent('rooms-1', ['rooms'], {
          reserve: async (_input, ctx) => {
            inProcessTraces.push(ctx.call.trace?.traceparent);
            reserveCalls++;
            if (reserveCalls === 1) throw new Error('no rooms yet');
            return { room: 12 };
          },
          release: async () => ({ released: true }),
        }),
        httpAgent({ id: 'flights-1', capabilities: ['flights'], url: agentUrl }),
        agent('payments-1', ['payments'], { pay: async () => Promise.reject(new Error('card declined')) }),
      ],
    });
    try {
      const { workflowId } = await engine.runtime.startWorkflow(trip, {}, { workflowId: 'trip-1' });
      expect((await engine.runtime.waitForEnd(workflowId)).status).toBe('compensated');
    } finally {
      await engine.stop();
    }

    const spans = exporter.getFinishedSpans();
    const { traceId, rootSpanId } = traceIdsOf('trip-1');
    // As docs/operations.md gives them: SHA-256 of `cadenza-workflow:<id>`, hex digits 1-32 and 33-48.
    const digest = createHash('sha256').update('cadenza-workflow:trip-1').digest('hex');
    expect({ traceId, rootSpanId }).toEqual({ traceId: digest.slice(0, 32), rootSpanId: digest.slice(32, 48) });
    expect(new Set(spans.map((s) => s.spanContext().traceId))).toEqual(new Set([traceId]));

    const [root, ...others] = named(spans, 'workflow trip');
    expect(others).toEqual([]);
    expect(root?.parentSpanContext?.spanId).toBe(rootSpanId);
    expect(root?.attributes).toMatchObject({ [attributes.workflowId]: 'trip-1', [attributes.definition]: 'trip', [attributes.status]: 'compensated' });
    expect(root?.status).toMatchObject({ code: SpanStatusCode.ERROR, message: 'card declined' });
    expect(root?.attributes[attributes.handedOver]).toBeUndefined();

    const reserve = named(spans, 'step reserve');
    expect(reserve.map((s) => s.attributes[attributes.attempt])).toEqual([1, 2]);
    expect(reserve[0]?.status).toMatchObject({ code: SpanStatusCode.ERROR, message: 'no rooms yet' });
    expect(reserve[0]?.attributes[attributes.retryable]).toBe(true);
    expect(reserve[1]?.status.code).toBe(SpanStatusCode.UNSET);
    // The names operations.md tells users to search by, spelled out; a call span is of kind CLIENT.
    expect(reserve[1]?.kind).toBe(SpanKind.CLIENT);
    expect(reserve[1]?.attributes).toMatchObject({
      'cadenza.workflow.id': 'trip-1', 'cadenza.workflow.definition': 'trip', 'cadenza.step.id': 'reserve', 'cadenza.step.action': 'reserve',
      'cadenza.step.attempt': 2, 'cadenza.call.kind': 'step', 'cadenza.agent.id': 'rooms-1',
    });
    expect(reserve[0]?.attributes).toMatchObject({ 'cadenza.error.code': 'agent-error', 'cadenza.error.retryable': true });
    expect(root?.attributes['cadenza.workflow.status']).toBe('compensated');
    expect(reserve[1]?.attributes).toMatchObject({ [attributes.workflowId]: 'trip-1', [attributes.definition]: 'trip', [attributes.step]: 'reserve', [attributes.agent]: 'rooms-1', [attributes.kind]: 'step' });
    const [book] = named(spans, 'step book');
    expect(book?.attributes[attributes.agent]).toBe('flights-1');
    const [pay] = named(spans, 'step pay');
    expect(pay?.status.code).toBe(SpanStatusCode.ERROR);
    const compensations = [...named(spans, 'compensate book'), ...named(spans, 'compensate reserve')];
    expect(compensations.map((s) => s.attributes[attributes.kind])).toEqual(['compensation', 'compensation']);

    // Every call is a child of the workflow span, and ends within it.
    const calls = spans.filter((s) => s !== root);
    expect(calls).toHaveLength(6);
    for (const span of calls) expect(span.parentSpanContext?.spanId).toBe(root && spanId(root));

    // An in-process agent gets the same, to continue the trace from (propagation.extract).
    expect(inProcessTraces).toEqual(reserve.map((span) => `00-${traceId}-${spanId(span)}-01`));
    // The HTTP agent got the traceparent of the span of its own call: the step, then its compensation.
    const bookCompensation = named(spans, 'compensate book')[0];
    expect(received.map((h) => h.traceparent)).toEqual([`00-${traceId}-${book && spanId(book)}-01`, `00-${traceId}-${bookCompensation && spanId(bookCompensation)}-01`]);
  });

  it('puts the spans of a runtime that resumes a workflow in the same trace', async () => {
    const store = await openStore('memory:');
    const never = (_input: unknown, { signal }: { signal: AbortSignal }) => new Promise<never>((_resolve, reject) => signal.addEventListener('abort', () => reject(new Error('stopped'))));
    const solo = workflow('solo').step({ id: 'only', action: 'work', capability: 'work' }).build();
    const first = await startTestEngine({ store, agents: [agent('slow-1', ['work'], { work: never })] });
    await first.runtime.startWorkflow(solo, {}, { workflowId: 'solo-1' });
    await first.stop();
    const handedOver = named(exporter.getFinishedSpans(), 'workflow solo')[0];
    expect(handedOver?.attributes[attributes.handedOver]).toBe(true);

    exporter.reset();
    const second = await startTestEngine({ store, agents: [agent('quick-1', ['work'], { work: async () => ({ done: true }) })] });
    try {
      expect((await second.runtime.waitForEnd('solo-1')).status).toBe('completed');
    } finally {
      await second.stop();
      await store.close();
    }
    const { traceId, rootSpanId } = traceIdsOf('solo-1');
    const [resumed] = named(exporter.getFinishedSpans(), 'step only');
    expect(resumed?.spanContext().traceId).toBe(traceId);
    expect(resumed?.parentSpanContext?.spanId).toBe(rootSpanId);
    expect(handedOver?.spanContext().traceId).toBe(traceId);
  });

  it('gives a workflow started without a runtime no workflow span, and its call spans its trace (operations.md)', async () => {
    const store = await openStore('memory:');
    const solo = workflow('solo').step({ id: 'only', action: 'work', capability: 'work' }).build();
    // As `cadenza run --no-wait` stores it: queued, for a runtime to admit.
    await appendStart(store, 'solo-queued', solo, {});
    const engine = await startTestEngine({ store, agents: [agent('quick-1', ['work'], { work: async () => ({ done: true }) })] });
    try {
      expect((await engine.runtime.waitForEnd('solo-queued')).status).toBe('completed');
    } finally {
      await engine.stop();
      await store.close();
    }
    const spans = exporter.getFinishedSpans();
    expect(named(spans, 'workflow solo')).toEqual([]);
    const { traceId, rootSpanId } = traceIdsOf('solo-queued');
    const [call] = named(spans, 'step only');
    expect(call?.spanContext().traceId).toBe(traceId);
    expect(call?.parentSpanContext?.spanId).toBe(rootSpanId);
  });
});
