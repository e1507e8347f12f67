/**
 * Pure core benchmark (`npm run bench:core`): decisions per second over the trading pipeline with
 * realistic triggers (start, agent results, some failures with retry timers and timeouts, some
 * compensations), and the time to fold a 100,000-event workflow history. No I/O is measured.
 * The last line of output is one JSON object with every figure.
 */
import { performance } from 'node:perf_hooks';
import { decide, evolve, foldEvents, initialState, type DecisionContext, type Trigger, type WorkflowEvent, type WorkflowState } from '../../src/saga/index.js';
import { validateDefinition, type WorkflowDefinition } from '../../src/workflow/index.js';
import { tradingPipeline } from '../../sagas/index.js';

type Result = { value: number; unit: string };
const results: Record<string, Result> = {};

function record(name: string, value: number, unit: string, note = ''): void {
  results[name] = { value: Math.round(value * 100) / 100, unit };
  console.log(`${name.padEnd(28)} ${results[name].value.toLocaleString('en-US').padStart(14)} ${unit}${note ? `  (${note})` : ''}`);
}

/** A deterministic random source, so every run measures the same work. */
function lcg(seed: number): () => number {
  let x = seed >>> 0;
  return () => ((x = (Math.imul(x, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

const agents: Record<string, string[]> = {};
const candidates = (capability: string) => (agents[capability] ??= [`${capability}-a`, `${capability}-b`, `${capability}-c`]);

/**
 * Drives one workflow to its end: answers every scheduled call (most succeed, some fail and are
 * retried when their timer fires, some time out, a few fail for good and compensate). Returns the
 * number of decide calls and the time spent inside decide.
 */
function runWorkflow(definition: WorkflowDefinition, id: string, random: () => number, now: { t: number }): { decisions: number; decideMs: number; events: number } {
  let state: WorkflowState = initialState();
  let decisions = 0;
  let decideMs = 0;
  let events = 0;
  const queue: Trigger[] = [{ kind: 'command', command: { type: 'start', workflowId: id, definition, input: { symbol: 'ACME', side: 'buy', quantity: 10, account: 'acc-1' } } }];
  const context: DecisionContext = { get now() { return now.t; }, random, candidates };
  while (queue.length > 0) {
    const trigger = queue.shift() as Trigger;
    now.t += 3;
    const started = performance.now();
    const decided = decide(state, trigger, context);
    decideMs += performance.now() - started;
    decisions++;
    events += decided.length;
    for (const event of decided) {
      state = evolve(state, event);
      queue.push(...reactionsTo(event, random));
    }
  }
  return { decisions, decideMs, events };
}

function reactionsTo(event: WorkflowEvent, random: () => number): Trigger[] {
  switch (event.type) {
    case 'StepScheduled': {
      const { stepId, attempt } = event.data;
      const roll = random();
      if (roll < 0.05) return [{ kind: 'timer', timer: { kind: 'stepTimeout', stepId, attempt } }];
      if (roll < 0.12) return [{ kind: 'stepResult', stepId, attempt, outcome: { ok: false, error: { message: 'upstream busy', retryable: roll < 0.115 } } }];
      return [{ kind: 'stepResult', stepId, attempt, outcome: { ok: true, output: { orderId: `o-${attempt}`, filledQuantity: 10, reservationId: 'r-1', approvalId: 'ap-1', price: 101.5, side: 'buy' } } }];
    }
    case 'StepRetryScheduled':
      return [{ kind: 'timer', timer: { kind: 'retryDue', stepId: event.data.stepId, attempt: event.data.nextAttempt } }];
    case 'CompensationScheduled':
      return [{ kind: 'compensationResult', stepId: event.data.stepId, attempt: event.data.attempt, outcome: { ok: true, output: { undone: true } } }];
    case 'CompensationRetryScheduled':
      return [{ kind: 'timer', timer: { kind: 'compensationRetryDue', stepId: event.data.stepId, attempt: event.data.nextAttempt } }];
    default:
      return [];
  }
}

/** Timers fire at their deadline: the bench clock jumps there (decide ignores early timers). */
function benchDecide(workflows: number): void {
  const random = lcg(42);
  const now = { t: 1_700_000_000_000 };
  let decisions = 0;
  let decideMs = 0;
  let events = 0;
  const loopStart = performance.now();
  for (let i = 0; i < workflows; i++) {
    now.t += 1_000_000; // far past any deadline of the previous workflow
    const r = runWorkflowWithTimers(tradingPipeline, `wf-${i}`, random, now);
    decisions += r.decisions;
    decideMs += r.decideMs;
    events += r.events;
  }
  const loopMs = performance.now() - loopStart;
  record('decide.per_s', decisions / (decideMs / 1000), 'decisions/s', `${decisions} decisions, ${events} events, ${workflows} trading workflows`);
  record('decide.us_per_decision', (decideMs * 1000) / decisions, 'µs');
  record('decide+evolve.per_s', decisions / (loopMs / 1000), 'decisions/s', 'decide plus folding the decided events, as the runtime does');
  record('workflows.per_s', workflows / (loopMs / 1000), 'workflows/s', 'trading pipeline, pure core only');
}

function runWorkflowWithTimers(definition: WorkflowDefinition, id: string, random: () => number, now: { t: number }) {
  // Timers in the queue fire "late enough": advance the clock by a generous amount per trigger.
  const clock = { get t() { return now.t; }, set t(v: number) { now.t = v + 60_000; } };
  return runWorkflow(definition, id, random, clock);
}

/** One workflow of many steps (a wide, shallow DAG) with retries and timeouts: a 100,000-event history. */
function buildHistory(size: number): WorkflowEvent[] {
  const width = 1_000;
  const steps = Array.from({ length: 30_000 }, (_, i) => ({
    id: `s${i}`, action: 'work', capability: 'worker', timeoutMs: 1_000,
    dependsOn: i >= width ? [`s${i - width}`] : [],
    // Each step writes one of 64 slots: data stays small (see docs/benchmarks.md for why that matters).
    output: { [`progress.slot${i % 64}`]: 'value' },
    retry: { maxAttempts: 5, initialDelayMs: 10, multiplier: 2, maxDelayMs: 1_000, jitter: 0.1 },
  }));
  const definition = validateDefinition({ name: 'wide', failureStrategy: 'fail', steps });
  const history: WorkflowEvent[] = [];
  let state: WorkflowState = initialState();
  const random = lcg(7);
  let now = 1_700_000_000_000;
  const queue: Trigger[] = [{ kind: 'command', command: { type: 'start', workflowId: 'big', definition, input: {} } }];
  for (let head = 0; head < queue.length && history.length < size; head++) {
    const trigger = queue[head] as Trigger;
    now += 2_000;
    const decided = decide(state, trigger, { now, random, candidates });
    for (const event of decided) {
      state = evolve(state, event);
      history.push(event);
      if (event.type === 'StepScheduled') {
        const { stepId, attempt } = event.data;
        const n = Number(stepId.slice(1));
        if (attempt === 1 && n % 3 === 0) queue.push({ kind: 'stepResult', stepId, attempt, outcome: { ok: false, error: { message: 'flaky', retryable: true } } });
        else if (attempt === 1 && n % 5 === 0) queue.push({ kind: 'timer', timer: { kind: 'stepTimeout', stepId, attempt } });
        else queue.push({ kind: 'stepResult', stepId, attempt, outcome: { ok: true, output: { value: n } } });
      }
      if (event.type === 'StepRetryScheduled') queue.push({ kind: 'timer', timer: { kind: 'retryDue', stepId: event.data.stepId, attempt: event.data.nextAttempt } });
    }
  }
  if (history.length < size) throw new Error(`history has only ${history.length} events`);
  return history.slice(0, size);
}

function benchFold(size: number): void {
  const history = buildHistory(size);
  foldEvents(history); // warm-up
  const runs = 5;
  const times: number[] = [];
  let last: WorkflowState = initialState();
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    last = foldEvents(history);
    times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  const median = times[Math.floor(runs / 2)] as number;
  record('fold.100k.ms', median, 'ms', `median of ${runs}; ${history.length} events, status ${last.status}, revision ${last.revision}`);
  record('fold.100k.best.ms', times[0] as number, 'ms', 'best run: closest to the code\'s own cost on a shared machine');
  record('fold.events_per_s', size / (median / 1000), 'events/s');
}

console.log(`pure core benchmark: node ${process.version}`);
benchDecide(Number(process.env.WARM ?? 200)); // warm-up
benchDecide(Number(process.env.WF ?? 5_000));
benchFold(Number(process.env.FOLD ?? 100_000));
console.log(JSON.stringify({ bench: 'core', results }));
