/**
 * Given/when/then for the pure core: given the events so far (written by hand or produced by a
 * scenario of triggers), when a trigger arrives, then these events, nothing, or this error.
 */
import { expect } from 'vitest';
import { decide, foldEvents, stepState, type DecisionContext, type Trigger, type WorkflowEvent, type WorkflowState } from '../../src/saga/index.js';
import { validateDefinition, type Json, type WorkflowDefinition, type WorkflowDefinitionInput } from '../../src/workflow/index.js';

export const T0 = 1_000_000;

/**
 * How many runs a fast-check property gets: `runs`, or a share of it under mutation testing
 * (vitest.mutate.core.config.ts sets CADENZA_PROPERTY_RUNS_PERCENT), where every covering test runs
 * again for each of hundreds of mutants and the properties alone took most of the time.
 */
export function propertyRuns(runs: number): number {
  const percent = Number(process.env.CADENZA_PROPERTY_RUNS_PERCENT ?? 100);
  return Math.max(1, Math.round((runs * percent) / 100));
}

/** A context at `now`, jitter draw 0.5, two agents per capability unless told otherwise. */
export function ctx(overrides: Partial<DecisionContext> = {}): DecisionContext {
  return { now: T0, random: () => 0.5, candidates: (capability) => [`${capability}-1`, `${capability}-2`], ...overrides };
}

/** Partial shape of an expected event: its type and the data fields that matter to the rule. */
export type Expected = { type: WorkflowEvent['type']; data?: Record<string, unknown> };

export function given(events: readonly WorkflowEvent[]) {
  const state = foldEvents(events);
  return {
    state,
    when(trigger: Trigger, context: DecisionContext = ctx()) {
      const run = () => decide(state, trigger, context);
      return {
        then(expected: Expected[]): WorkflowEvent[] {
          const events = run();
          expect(events.map((e) => e.type)).toEqual(expected.map((e) => e.type));
          expect(events).toMatchObject(expected.map((e) => ({ type: e.type, ...(e.data ? { data: e.data } : {}) })));
          return events;
        },
        thenNothing(): void {
          expect(run()).toEqual([]);
        },
        thenRejects(message: RegExp, errorClass: new (...args: never[]) => Error): void {
          expect(run).toThrow(errorClass);
          expect(run).toThrow(message);
        },
      };
    },
  };
}

/** Drives a workflow through triggers, keeping every decided event: builds realistic "given" histories. */
export class Scenario {
  readonly events: WorkflowEvent[] = [];
  readonly definition: WorkflowDefinition;
  now = T0;

  constructor(definition: WorkflowDefinitionInput | WorkflowDefinition, readonly workflowId = 'wf-1', readonly context: Partial<DecisionContext> = {}) {
    this.definition = validateDefinition(definition);
  }

  get state(): WorkflowState {
    return foldEvents(this.events);
  }

  apply(trigger: Trigger, overrides: Partial<DecisionContext> = {}): WorkflowEvent[] {
    const decided = decide(this.state, trigger, ctx({ now: this.now, ...this.context, ...overrides }));
    this.events.push(...decided);
    return decided;
  }

  at(now: number): this {
    this.now = now;
    return this;
  }

  start(input: Json = {}): this {
    this.apply({ kind: 'command', command: { type: 'start', workflowId: this.workflowId, definition: this.definition, input } });
    return this;
  }

  attempt(stepId: string): number {
    return stepState(this.state, stepId)?.attempt ?? 0;
  }

  succeed(stepId: string, output: Json = {}): this {
    this.apply({ kind: 'stepResult', stepId, attempt: this.attempt(stepId), outcome: { ok: true, output } });
    return this;
  }

  fail(stepId: string, retryable = true, message = 'boom'): this {
    this.apply({ kind: 'stepResult', stepId, attempt: this.attempt(stepId), outcome: { ok: false, error: { message, retryable } } });
    return this;
  }

  /** Fires the step's timeout at its deadline. */
  timeOut(stepId: string): this {
    const step = stepState(this.state, stepId);
    this.apply({ kind: 'timer', timer: { kind: 'stepTimeout', stepId, attempt: step?.attempt ?? 0 } }, { now: step?.deadline ?? this.now });
    return this;
  }

  /** Fires the step's retry timer at its not-before time. */
  retryDue(stepId: string): this {
    const step = stepState(this.state, stepId);
    this.apply({ kind: 'timer', timer: { kind: 'retryDue', stepId, attempt: (step?.attempt ?? 0) + 1 } }, { now: step?.notBefore ?? this.now });
    return this;
  }

  compensated(stepId: string, output: Json = {}): this {
    const attempt = stepState(this.state, stepId)?.compensation.attempt ?? 0;
    this.apply({ kind: 'compensationResult', stepId, attempt, outcome: { ok: true, output } });
    return this;
  }

  compensationFails(stepId: string, retryable = true): this {
    const attempt = stepState(this.state, stepId)?.compensation.attempt ?? 0;
    this.apply({ kind: 'compensationResult', stepId, attempt, outcome: { ok: false, error: { message: 'undo failed', retryable } } });
    return this;
  }

  compensationRetryDue(stepId: string): this {
    const c = stepState(this.state, stepId)?.compensation;
    this.apply({ kind: 'timer', timer: { kind: 'compensationRetryDue', stepId, attempt: (c?.attempt ?? 0) + 1 } }, { now: c?.notBefore ?? this.now });
    return this;
  }

  command(command: Extract<Trigger, { kind: 'command' }>['command']): this {
    this.apply({ kind: 'command', command });
    return this;
  }

  types(): string[] {
    return this.events.map((e) => e.type);
  }
}

/** a -> (b, c) -> d, every step compensable, no jitter surprises: the workhorse of the unit tests. */
export function diamond(overrides: Partial<WorkflowDefinitionInput> = {}, stepOverrides: Record<string, object> = {}): WorkflowDefinitionInput {
  const retry = { maxAttempts: 3, initialDelayMs: 100, multiplier: 2, maxDelayMs: 1_000, jitter: 0 };
  const step = (id: string, dependsOn: string[]) => ({
    id, action: `do-${id}`, capability: `cap-${id}`, dependsOn, timeoutMs: 5_000, retry,
    output: { [`results.${id}`]: '$' },
    // Compensated only after success here: the rules for steps that were attempted but did not
    // succeed ('attempted', the default) have their own specs (decide-compensation-attempted.test.ts).
    compensation: { action: `undo-${id}`, input: { ref: '$output' }, retry: { ...retry, maxAttempts: 2 }, when: 'succeeded' as const },
    ...(stepOverrides[id] ?? {}),
  });
  return { name: 'diamond', steps: [step('a', []), step('b', ['a']), step('c', ['a']), step('d', ['b', 'c'])], ...overrides };
}
