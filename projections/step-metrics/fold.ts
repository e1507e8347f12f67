/**
 * Step metrics: per definition and step, and per agent, the attempts and their outcomes, retries,
 * timeouts and a latency histogram of successful attempts (the agent's reported duration). A
 * workflow's definition name is only in its WorkflowStarted event, so a small `run` document
 * remembers it while the workflow runs; it is removed when the workflow ends.
 */
import type { DocFold, DocView } from '../../src/projections/doc-fold.js';
import { emptyHistogram, type Histogram, record } from '../shared/histogram.js';
import { decodeWorkflowEvent, definitionsReady, type WorkflowInput } from '../../src/saga/stream/index.js';

export interface Outcomes {
  /** Attempts scheduled. */
  readonly attempts: number;
  readonly succeeded: number;
  /** Attempts that failed (a timeout is counted in `timedOut`, not here). */
  readonly failed: number;
  readonly timedOut: number;
  readonly latency: Histogram;
}

export interface StepMetricsDoc extends Outcomes {
  readonly kind: 'step';
  readonly definitionName: string;
  readonly stepId: string;
  readonly retries: number;
  readonly skipped: number;
  readonly compensations: { readonly attempts: number; readonly succeeded: number; readonly failed: number };
}

export interface AgentMetricsDoc extends Outcomes {
  readonly kind: 'agent';
  readonly agentId: string;
}

export interface RunDoc {
  readonly kind: 'run';
  readonly definitionName: string;
}

export type StepMetricsReadModel = StepMetricsDoc | AgentMetricsDoc | RunDoc;

export const stepMetricsKey = (definitionName: string, stepId: string): string => `step:${definitionName}/${stepId}`;
export const agentMetricsKey = (agentId: string): string => `agent:${agentId}`;
const runKey = (workflowId: string): string => `run:${workflowId}`;

const noOutcomes = { attempts: 0, succeeded: 0, failed: 0, timedOut: 0, latency: emptyHistogram };

type View = DocView<StepMetricsReadModel>;

export const stepMetricsFold: DocFold<WorkflowInput, StepMetricsReadModel> = {
  decode: decodeWorkflowEvent,
  prepare: definitionsReady,
  apply(view, { event }) {
    if (event.type === 'WorkflowStarted') {
      view.put(runKey(event.data.workflowId), { kind: 'run', definitionName: event.data.definition.name });
      return;
    }
    const run = view.get(runKey(event.data.workflowId));
    if (run?.kind !== 'run') return;
    const definition = run.definitionName;
    switch (event.type) {
      case 'StepScheduled':
        updateStep(view, definition, event.data.stepId, (s) => ({ ...s, attempts: s.attempts + 1 }));
        updateAgent(view, event.data.agentId, (a) => ({ ...a, attempts: a.attempts + 1 }));
        return;
      case 'StepSucceeded': {
        const { durationMs, agentId } = event.data;
        const success = <T extends Outcomes>(o: T): T => ({ ...o, succeeded: o.succeeded + 1, latency: record(o.latency, durationMs) });
        updateStep(view, definition, event.data.stepId, success);
        if (agentId !== '') updateAgent(view, agentId, success);
        return;
      }
      case 'StepFailed': {
        const failure = <T extends Outcomes>(o: T): T => ({ ...o, failed: o.failed + 1 });
        updateStep(view, definition, event.data.stepId, failure);
        if (event.data.agentId) updateAgent(view, event.data.agentId, failure);
        return;
      }
      case 'StepTimedOut': {
        const timeout = <T extends Outcomes>(o: T): T => ({ ...o, timedOut: o.timedOut + 1 });
        updateStep(view, definition, event.data.stepId, timeout);
        updateAgent(view, event.data.agentId, timeout);
        return;
      }
      case 'StepRetryScheduled':
        updateStep(view, definition, event.data.stepId, (s) => ({ ...s, retries: s.retries + 1 }));
        return;
      case 'StepSkipped':
        updateStep(view, definition, event.data.stepId, (s) => ({ ...s, skipped: s.skipped + 1 }));
        return;
      case 'CompensationScheduled':
        updateStep(view, definition, event.data.stepId, (s) => ({ ...s, compensations: { ...s.compensations, attempts: s.compensations.attempts + 1 } }));
        return;
      case 'CompensationSucceeded':
        updateStep(view, definition, event.data.stepId, (s) => ({ ...s, compensations: { ...s.compensations, succeeded: s.compensations.succeeded + 1 } }));
        return;
      case 'CompensationFailed':
        updateStep(view, definition, event.data.stepId, (s) => ({ ...s, compensations: { ...s.compensations, failed: s.compensations.failed + 1 } }));
        return;
      case 'WorkflowCompleted':
      case 'WorkflowFailed':
      case 'WorkflowCompensated':
      case 'WorkflowCompensationFailed':
      case 'WorkflowCancelled':
        view.remove(runKey(event.data.workflowId));
        return;
      default:
        return;
    }
  },
};

function updateStep(view: View, definitionName: string, stepId: string, change: (doc: StepMetricsDoc) => StepMetricsDoc): void {
  const key = stepMetricsKey(definitionName, stepId);
  const doc = view.get(key);
  const current: StepMetricsDoc =
    doc?.kind === 'step'
      ? doc
      : { kind: 'step', definitionName, stepId, ...noOutcomes, retries: 0, skipped: 0, compensations: { attempts: 0, succeeded: 0, failed: 0 } };
  view.put(key, change(current));
}

function updateAgent(view: View, agentId: string, change: (doc: AgentMetricsDoc) => AgentMetricsDoc): void {
  const key = agentMetricsKey(agentId);
  const doc = view.get(key);
  view.put(key, change(doc?.kind === 'agent' ? doc : { kind: 'agent', agentId, ...noOutcomes }));
}
