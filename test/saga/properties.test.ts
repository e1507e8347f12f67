/**
 * Property tests: random DAGs driven by random schedules of results, failures, timeouts, retries
 * and operator commands. Whatever happens, the rules of the saga hold.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decide, evolve, foldEvents, inFlightCalls, initialState, isTerminal, parseWorkflowEvent, pendingTimers, pendingTimersOf, stepStates, stepsChangedBy, waitsForAgents,
  type DecisionContext, type PendingTimer, type StepState, type Trigger, type WorkflowEvent, type WorkflowState,
} from '../../src/saga/index.js';
import { graphOf, validateDefinition, type WorkflowDefinition, type WorkflowDefinitionInput } from '../../src/workflow/index.js';
import { propertyRuns } from './spec.js';

const stepArb = fc.record({
  deps: fc.array(fc.nat(), { maxLength: 3 }),
  optional: fc.boolean(),
  compensable: fc.boolean(),
  maxAttempts: fc.integer({ min: 1, max: 3 }),
  compensationAttempts: fc.integer({ min: 1, max: 2 }),
  agents: fc.integer({ min: 0, max: 2 }),
});

const dagArb = fc.record({
  steps: fc.array(stepArb, { minLength: 1, maxLength: 7 }),
  strategy: fc.constantFrom('compensate' as const, 'fail' as const, 'pause' as const),
  maxParallelSteps: fc.option(fc.integer({ min: 1, max: 3 }), { nil: undefined }),
});

type Dag = typeof dagArb extends fc.Arbitrary<infer T> ? T : never;

function toDefinition(dag: Dag): { definition: WorkflowDefinition; agents: Map<string, string[]> } {
  const agents = new Map<string, string[]>();
  const steps = dag.steps.map((s, i) => {
    const id = `s${i}`;
    agents.set(`cap-${id}`, Array.from({ length: s.agents === 0 && i % 3 !== 0 ? 1 : s.agents }, (_, k) => `agent-${id}-${k}`));
    const dependsOn = i === 0 ? [] : [...new Set(s.deps.map((d) => `s${d % i}`))];
    return {
      id, action: `act-${id}`, capability: `cap-${id}`, dependsOn, optional: s.optional, timeoutMs: 1_000,
      output: { [`out.${id}`]: '$' },
      retry: { maxAttempts: s.maxAttempts, initialDelayMs: 10, multiplier: 2, maxDelayMs: 100, jitter: 0.5 },
      ...(s.compensable ? { compensation: { action: `undo-${id}`, input: { result: '$output' }, retry: { maxAttempts: s.compensationAttempts, initialDelayMs: 10, multiplier: 2, maxDelayMs: 100, jitter: 0 } } } : {}),
    };
  });
  const input: WorkflowDefinitionInput = { name: 'random', failureStrategy: dag.strategy, limits: dag.maxParallelSteps === undefined ? {} : { maxParallelSteps: dag.maxParallelSteps }, steps };
  return { definition: validateDefinition(input), agents };
}

interface Run {
  events: WorkflowEvent[];
  state: WorkflowState;
  /** Timers by step, kept the way the runtime keeps its timer wheel: only changed steps are updated. */
  timers: Map<string, PendingTimer[]>;
  decisions: number;
  duplicatesRejected: number;
}

/** Updates the timers incrementally, as the runtime does, and checks them against a full recount. */
function trackTimers(run: Run, events: readonly WorkflowEvent[]): void {
  const changed = stepsChangedBy(events);
  if (changed === undefined) run.timers.clear();
  for (const stepId of changed ?? []) run.timers.delete(stepId);
  for (const timer of changed === undefined ? pendingTimers(run.state) : pendingTimersOf(run.state, changed)) {
    run.timers.set(timer.stepId, [...(run.timers.get(timer.stepId) ?? []), timer]);
  }
  const order = (a: PendingTimer, b: PendingTimer) => a.stepId.localeCompare(b.stepId) || a.kind.localeCompare(b.kind);
  expect([...run.timers.values()].flat().sort(order)).toEqual(pendingTimers(run.state).sort(order));
}

/** Plays a random schedule: each choice picks one of the things that can happen next. */
function play(definition: WorkflowDefinition, agents: Map<string, string[]>, choices: readonly number[]): Run {
  let now = 1_000;
  const context = (): DecisionContext => ({ now, random: () => ((now * 7919) % 1000) / 1000, candidates: (c) => agents.get(c) ?? [] });
  const run: Run = { events: [], state: initialState(), timers: new Map(), decisions: 0, duplicatesRejected: 0 };
  const apply = (trigger: Trigger): void => {
    const ctx = context();
    const events = decide(run.state, trigger, ctx);
    expect(decide(run.state, trigger, ctx)).toEqual(events); // deterministic given the same inputs
    run.events.push(...events);
    for (const event of events) run.state = evolve(run.state, event);
    trackTimers(run, events);
    checkNoCompensationLeftWaiting(definition, run.state);
    if (run.state.status !== 'idle') {
      const open = stepStates(run.state).filter((s) => s.compensation.status === 'running' || s.compensation.status === 'retryWaiting' || s.compensation.status === 'waitingForAgent');
      expect(run.state.openCompensations).toBe(open.length);
    }
    run.decisions++;
    if (trigger.kind === 'stepResult' || trigger.kind === 'compensationResult') {
      expect(decide(run.state, trigger, context())).toEqual([]); // a duplicate result changes nothing
      run.duplicatesRejected++;
    }
  };
  apply({ kind: 'command', command: { type: 'start', workflowId: 'wf-p', definition, input: {} } });
  let i = 0;
  while (!isTerminal(run.state.status) && run.decisions < 2_000) {
    const choice = choices[i++] ?? 0; // when choices run out, everything succeeds: the run must then end
    const exhausted = i > choices.length;
    const calls = inFlightCalls(run.state);
    const timers = pendingTimers(run.state);
    now += 1 + (choice % 5);
    if (run.state.status === 'paused') {
      apply({ kind: 'command', command: { type: !exhausted && choice % 3 !== 0 ? 'retry' : 'compensate' } });
      continue;
    }
    if (!exhausted && run.state.status === 'running' && choice % 97 === 13) {
      apply({ kind: 'command', command: { type: 'cancel', reason: 'random cancel' } });
      continue;
    }
    if (waitsForAgents(run.state) && (calls.length === 0 || (!exhausted && choice % 7 === 0))) {
      // An agent registers for what waits: a wake schedules it.
      stepStates(run.state).forEach((step, index) => {
        if (step.status === 'waitingForAgent' || step.compensation.status === 'waitingForAgent') agents.set(definition.steps[index]!.capability, [`late-agent-${index}`]);
      });
      apply({ kind: 'wake' });
      continue;
    }
    const retries = timers.filter((t) => t.kind === 'retryDue' || t.kind === 'compensationRetryDue');
    if (calls.length === 0 || (!exhausted && retries.length > 0 && choice % 4 === 0)) {
      const timer = retries[choice % Math.max(1, retries.length)] ?? timers[0];
      if (!timer) throw new Error(`stuck in ${run.state.status} with nothing in flight and no timer`);
      now = Math.max(now, timer.dueAt);
      apply({ kind: 'timer', timer });
      continue;
    }
    const call = calls[choice % calls.length];
    if (!call) throw new Error('no call');
    const kind = call.kind === 'step' ? 'stepResult' : 'compensationResult';
    const outcome = exhausted ? 0 : choice % 6;
    if (outcome === 4) {
      now = Math.max(now, call.deadline);
      apply({ kind: 'timer', timer: { kind: call.kind === 'step' ? 'stepTimeout' : 'compensationTimeout', stepId: call.stepId, attempt: call.attempt } });
    } else if (outcome === 3 || outcome === 5) {
      apply({ kind, stepId: call.stepId, attempt: call.attempt, outcome: { ok: false, error: { message: 'random failure', retryable: outcome === 3 } } });
    } else {
      apply({ kind, stepId: call.stepId, attempt: call.attempt, outcome: { ok: true, output: { by: call.agentId, attempt: call.attempt } } });
    }
  }
  return run;
}

/** The definitions here compensate 'attempted' steps (the default): succeeded, or ever sent to an agent. */
function owesCompensation(definition: WorkflowDefinition, index: number, step: StepState): boolean {
  return definition.steps[index]?.compensation !== undefined && (step.status === 'succeeded' || step.idempotencyKey !== undefined);
}

/**
 * After every decision, no compensation that may start is left unstarted: once in-flight steps
 * have drained, a step owing a compensation waits only for a step below it whose own is not done.
 */
function checkNoCompensationLeftWaiting(definition: WorkflowDefinition, state: WorkflowState): void {
  if (state.status !== 'compensating' && state.status !== 'compensationFailed') return;
  if (state.runningSteps > 0) return;
  const graph = graphOf(definition);
  const steps = stepStates(state);
  const owes = (i: number) => owesCompensation(definition, i, steps[i] as StepState);
  steps.forEach((step, i) => {
    if (!owes(i) || step.compensation.status !== 'none') return;
    const waitingFor = [...descendantsOf(graph.dependents, i)].filter((j) => owes(j) && steps[j]?.compensation.status !== 'succeeded');
    expect(waitingFor.length, `${step.id} could have been compensated`).toBeGreaterThan(0);
  });
}

/** Every step depending on `index` directly or transitively (the definitions here are small). */
function descendantsOf(dependents: readonly (readonly number[])[], index: number): Set<number> {
  const found = new Set<number>();
  const stack = [...(dependents[index] ?? [])];
  while (stack.length > 0) {
    const j = stack.pop() as number;
    if (found.has(j)) continue;
    found.add(j);
    stack.push(...(dependents[j] ?? []));
  }
  return found;
}

/** Walks the history checking ordering rules event by event, against the state before each event. */
function checkHistory(definition: WorkflowDefinition, events: readonly WorkflowEvent[]): void {
  const graph = graphOf(definition);
  const compensated = new Set<string>();
  let state = initialState();
  for (const event of events) {
    if (state.status !== 'idle' && event.type === 'StepScheduled') {
      const steps = stepStates(state);
      for (const d of graph.dependencies[graph.indexOf.get(event.data.stepId) ?? -1] ?? []) {
        expect(['succeeded', 'skipped'], `${event.data.stepId} scheduled before ${steps[d]?.id}`).toContain(steps[d]?.status);
      }
    }
    if (state.status !== 'idle' && event.type === 'CompensationScheduled') {
      const steps = stepStates(state);
      const index = graph.indexOf.get(event.data.stepId) ?? -1;
      // Compensated only what took effect, or may have: a step that was sent to an agent.
      expect(steps[index]?.status === 'succeeded' || steps[index]?.idempotencyKey !== undefined, `${event.data.stepId} compensated without ever being attempted`).toBe(true);
      expect(event.data.compensates).toEqual([`${state.workflowId}:${event.data.stepId}`]);
      for (const j of descendantsOf(graph.dependents, index)) {
        const dependent = steps[j];
        if (dependent && owesCompensation(definition, j, dependent)) expect(compensated, `${event.data.stepId} compensated before ${dependent.id}`).toContain(dependent.id);
      }
    }
    if (event.type === 'CompensationSucceeded') {
      expect(compensated).not.toContain(event.data.stepId);
      compensated.add(event.data.stepId);
    }
    state = evolve(state, event);
  }
  if (state.status === 'idle') throw new Error('never started');
  const steps = stepStates(state);
  if (state.status === 'completed') expect(steps.every((s) => s.status === 'succeeded' || s.status === 'skipped')).toBe(true);
  if (state.status === 'compensated' || state.status === 'cancelled') {
    const owed = steps.filter((s, i) => owesCompensation(definition, i, s)).map((s) => s.id);
    expect([...compensated].sort()).toEqual(owed.sort());
  }
}

describe('saga properties over random DAGs and schedules', () => {
  it('schedules no step before its dependencies, always terminates, compensates in reverse order once each, ignores duplicates, keeps timers by changed step', () => {
    fc.assert(
      fc.property(dagArb, fc.array(fc.nat(1_000), { maxLength: 120 }), (dag, choices) => {
        const { definition, agents } = toDefinition(dag);
        const run = play(definition, agents, choices);
        expect(isTerminal(run.state.status), `ended ${run.state.status} after ${run.decisions} decisions`).toBe(true);
        checkHistory(definition, run.events);
        expect(new Set(run.events.map((e) => e.id)).size).toBe(run.events.length);
      }),
      { numRuns: propertyRuns(300) },
    );
  });

  it('replays deterministically: fold of the history, and of its stored JSON form, equals the live state', () => {
    fc.assert(
      fc.property(dagArb, fc.array(fc.nat(1_000), { maxLength: 60 }), (dag, choices) => {
        const { definition, agents } = toDefinition(dag);
        const run = play(definition, agents, choices);
        expect(foldEvents(run.events)).toEqual(run.state);
        const stored = run.events.map((e) => parseWorkflowEvent(e.type, JSON.parse(JSON.stringify(e.data)), { schemaVersion: 1 }, e.id));
        const replayed = foldEvents(stored);
        expect(JSON.stringify(stepStates(replayed))).toBe(JSON.stringify(stepStates(run.state)));
        expect(replayed.status).toBe(run.state.status);
        expect(replayed.revision).toBe(run.state.revision);
      }),
      { numRuns: propertyRuns(100) },
    );
  });
});
