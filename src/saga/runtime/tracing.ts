/**
 * OpenTelemetry spans of the runtime, through `@opentelemetry/api` only: nothing is recorded unless
 * the application registers an SDK (a tracer provider), and until then every hook returns at once.
 *
 * A workflow outlives processes, a span does not, so each workflow gets a trace id derived from its
 * id (`traceIdOf`): every process's spans of one workflow land in one trace, whoever ran them. The
 * trace hangs under a virtual root span id, also derived from the workflow id and never exported.
 * - The workflow span is started by the runtime that appends WorkflowStarted and ended when that
 *   runtime sees the end event (its own append or another process's). A runtime that stops first
 *   ends it with `cadenza.workflow.handed_over`.
 * - A span per agent call (step attempt or compensation attempt), child of the workflow span when
 *   this process holds it, else of the virtual root. A workflow the sampler dropped at its start
 *   makes no call spans here: its calls carry the workflow span's unsampled context instead.
 *   Its context goes with the call as W3C headers
 *   made by the registered propagator (`AgentCall.trace`), not as the active context: entering a
 *   context per call would switch on async hooks for every promise of the process (Node 20).
 * docs/operations.md#tracing shows what a trace looks like.
 */
import { hash } from 'node:crypto';
import { propagation, ProxyTracerProvider, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, TraceFlags, type Context, type Span, type Tracer } from '@opentelemetry/api';
import type { AgentCallResult } from '../../agents/index.js';
import type { WorkflowEvent } from '../events.js';
import type { InFlightCall, WorkflowState } from '../state.js';

/** The instrumentation scope's name, as a user filters on it. */
export const TRACER_NAME = 'cadenza';

/** Span attribute names: `cadenza.*`, one per thing a user searches by. */
export const attributes = {
  workflowId: 'cadenza.workflow.id',
  definition: 'cadenza.workflow.definition',
  definitionVersion: 'cadenza.workflow.definition_version',
  status: 'cadenza.workflow.status',
  handedOver: 'cadenza.workflow.handed_over',
  step: 'cadenza.step.id',
  action: 'cadenza.step.action',
  attempt: 'cadenza.step.attempt',
  kind: 'cadenza.call.kind',
  agent: 'cadenza.agent.id',
  errorCode: 'cadenza.error.code',
  retryable: 'cadenza.error.retryable',
} as const;

/** End statuses a Jaeger user looks for as errors: the workflow did not do what it was started for. */
const failedStatuses: ReadonlySet<string> = new Set(['failed', 'compensated', 'compensationFailed']);

/** The no-op provider's delegate, to tell "no SDK registered" apart without starting a span. */
const noopDelegate = new ProxyTracerProvider().getDelegate();

/** W3C ids of a workflow's trace: 32 and 16 hex digits of SHA-256 of its id. */
export function traceIdsOf(workflowId: string): { traceId: string; rootSpanId: string } {
  // The one-shot hash: a Hash object per workflow start was a third of this hook's cost.
  const hex = hash('sha256', `cadenza-workflow:${workflowId}`, 'hex');
  return { traceId: hex.slice(0, 32), rootSpanId: hex.slice(32, 48) };
}

/** The trace id a workflow's spans carry, from any process: to find its trace in Jaeger or Tempo. */
export function traceIdOf(workflowId: string): string {
  return traceIdsOf(workflowId).traceId;
}

interface LiveWorkflow {
  readonly span: Span;
  readonly context: Context;
  /**
   * Set when the sampler dropped the workflow: the W3C headers of its (non-recording) span, sent
   * with every call as they are, so agents drop it too. Its calls then make no span at all: the
   * sampler is asked once per workflow, not once per call (the per-call work was most of tracing's
   * cost at 10% sampling; docs/benchmarks.md).
   */
  readonly unsampledHeaders?: Readonly<Record<string, string>>;
}

export class RuntimeTracing {
  readonly #tracer: Tracer = trace.getTracer(TRACER_NAME);
  /** Workflow spans this runtime started and has not ended. Empty while no SDK is registered. */
  readonly #live = new Map<string, LiveWorkflow>();

  /** Whether an SDK is registered: checked on every hook, so registering one later takes effect. */
  get enabled(): boolean {
    const provider = trace.getTracerProvider();
    return !(provider instanceof ProxyTracerProvider) || provider.getDelegate() !== noopDelegate;
  }

  /** After this runtime stored a decision: a WorkflowStarted opens the workflow span. */
  appended(workflowId: string, events: readonly WorkflowEvent[], state: WorkflowState): void {
    if (events[0]?.type !== 'WorkflowStarted' || state.status === 'idle' || !this.enabled) return;
    const { definition } = state;
    const span = this.#tracer.startSpan(
      `workflow ${definition.name}`,
      { kind: SpanKind.INTERNAL, attributes: { [attributes.workflowId]: workflowId, [attributes.definition]: definition.name, [attributes.definitionVersion]: definition.version } },
      virtualRoot(workflowId),
    );
    const context = trace.setSpan(ROOT_CONTEXT, span);
    if (span.isRecording()) this.#live.set(workflowId, { span, context });
    else {
      const headers: Record<string, string> = {};
      propagation.inject(context, headers);
      // One object for all the workflow's calls: frozen, since an in-process handler is given it.
      this.#live.set(workflowId, { span, context, unsampledHeaders: Object.freeze(headers) });
    }
  }

  /** The workflow reached an end status (here or in another process): its span ends. */
  ended(workflowId: string, state: WorkflowState): void {
    if (this.#live.size === 0) return;
    const live = this.#live.get(workflowId);
    if (!live || state.status === 'idle') return;
    this.#live.delete(workflowId);
    live.span.setAttribute(attributes.status, state.status);
    if (failedStatuses.has(state.status)) live.span.setStatus({ code: SpanStatusCode.ERROR, message: state.lastError?.error.message ?? state.status });
    live.span.end();
  }

  /**
   * Runs an agent call inside its span: `invoke` gets the span's trace context as W3C headers, to
   * send with the call. Without an SDK, or for a workflow the sampler dropped, it is `invoke` and
   * nothing else: not even a promise of its own (this runs for every agent call).
   */
  call(workflowId: string, definition: string, call: InFlightCall, invoke: (trace?: Readonly<Record<string, string>>) => Promise<AgentCallResult>): Promise<AgentCallResult> {
    const live = this.#live.get(workflowId);
    if (live?.unsampledHeaders) return invoke(live.unsampledHeaders);
    if (!this.enabled) return invoke();
    return this.#traced(workflowId, definition, call, live, invoke);
  }

  async #traced(workflowId: string, definition: string, call: InFlightCall, live: LiveWorkflow | undefined, invoke: (trace?: Readonly<Record<string, string>>) => Promise<AgentCallResult>): Promise<AgentCallResult> {
    const parent = live?.context ?? virtualRoot(workflowId);
    const span = this.#tracer.startSpan(
      `${call.kind === 'step' ? 'step' : 'compensate'} ${call.stepId}`,
      {
        kind: SpanKind.CLIENT,
        attributes: {
          [attributes.workflowId]: workflowId,
          [attributes.definition]: definition,
          [attributes.step]: call.stepId,
          [attributes.action]: call.action,
          [attributes.attempt]: call.attempt,
          [attributes.kind]: call.kind,
          [attributes.agent]: call.agentId,
        },
      },
      parent,
    );
    const headers: Record<string, string> = {};
    propagation.inject(trace.setSpan(parent, span), headers);
    try {
      const result = await invoke(headers);
      if (!result.ok) {
        span.setAttributes({ [attributes.errorCode]: result.error.code ?? 'error', [attributes.retryable]: result.error.retryable });
        span.setStatus({ code: SpanStatusCode.ERROR, message: result.error.message });
      }
      return result;
    } finally {
      span.end();
    }
  }

  /** The runtime stops: workflow spans still open end here, marked as handed over to whoever goes on. */
  stop(): void {
    for (const { span } of this.#live.values()) {
      span.setAttribute(attributes.handedOver, true);
      span.end();
    }
    this.#live.clear();
  }
}

/** The workflow's trace, under its virtual root: what spans join when no workflow span is here. */
function virtualRoot(workflowId: string): Context {
  const { traceId, rootSpanId } = traceIdsOf(workflowId);
  return trace.setSpanContext(ROOT_CONTEXT, { traceId, spanId: rootSpanId, traceFlags: TraceFlags.SAMPLED, isRemote: true });
}
