import { describe, expect, it } from 'vitest';
import { CommandRejectedError, type Trigger, type WorkflowEvent } from '../../src/saga/index.js';
import { validateDefinition, type Json, type WorkflowDefinitionInput } from '../../src/workflow/index.js';
import { Scenario, T0, ctx, diamond, given } from './spec.js';

const twoRoots = {
  name: 'two-roots',
  input: { required: ['symbol'] },
  steps: [
    { id: 'r1', action: 'one', capability: 'x', input: { symbol: 'input.symbol', fixed: { value: 42 } }, output: { one: '$' } },
    { id: 'r2', action: 'two', capability: 'y', timeoutMs: 2_000 },
    { id: 'join', action: 'join', capability: 'x', dependsOn: ['r1', 'r2'], input: { one: 'one' } },
  ],
};

// Definitions here are raw JSON, as a CLI would read them from a file: decide validates them.
const start = (definition: object, input: Json = { symbol: 'ACME' }, workflowId = 'wf-1'): Trigger =>
  ({ kind: 'command', command: { type: 'start', workflowId, definition: definition as WorkflowDefinitionInput, input } });

describe('when a start command arrives', () => {
  it('records WorkflowStarted and schedules every independent root in the same decision', () => {
    const events = given([]).when(start(twoRoots)).then([
      { type: 'WorkflowStarted', data: { workflowId: 'wf-1', input: { symbol: 'ACME' }, data: { input: { symbol: 'ACME' } } } },
      { type: 'StepScheduled', data: { stepId: 'r1', attempt: 1, agentId: 'x-1', input: { symbol: 'ACME', fixed: 42 }, deadline: T0 + 30_000, idempotencyKey: 'wf-1:r1' } },
      { type: 'StepScheduled', data: { stepId: 'r2', attempt: 1, agentId: 'y-1', deadline: T0 + 2_000, idempotencyKey: 'wf-1:r2' } },
    ]);
    const started = events[0] as Extract<WorkflowEvent, { type: 'WorkflowStarted' }>;
    expect(started.data.definitionHash).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(started.data.definition.steps.map((s) => s.id)).toEqual(['r1', 'r2', 'join']);
  });

  it('gives every decided event a deterministic, distinct id', () => {
    const first = given([]).when(start(twoRoots)).then([{ type: 'WorkflowStarted' }, { type: 'StepScheduled' }, { type: 'StepScheduled' }]);
    const again = given([]).when(start(twoRoots), ctx({ now: T0 + 5 })).then([{ type: 'WorkflowStarted' }, { type: 'StepScheduled' }, { type: 'StepScheduled' }]);
    expect(again.map((e) => e.id)).toEqual(first.map((e) => e.id));
    expect(new Set(first.map((e) => e.id)).size).toBe(3);
    const other = given([]).when(start(twoRoots, { symbol: 'ACME' }, 'wf-2')).then([{ type: 'WorkflowStarted' }, { type: 'StepScheduled' }, { type: 'StepScheduled' }]);
    expect(other.map((e) => e.id)).not.toContain(first[0]?.id);
  });

  it('gives the same decision by another runtime instance (deciderId) other ids, so their appends conflict', () => {
    const mine = given([]).when(start(twoRoots), ctx({ deciderId: 'runtime-a' })).then([{ type: 'WorkflowStarted' }, { type: 'StepScheduled' }, { type: 'StepScheduled' }]);
    const theirs = given([]).when(start(twoRoots), ctx({ deciderId: 'runtime-b' })).then([{ type: 'WorkflowStarted' }, { type: 'StepScheduled' }, { type: 'StepScheduled' }]);
    expect(theirs.map((e) => e.id)).not.toContain(mine[0]?.id);
    expect(theirs.map((e) => e.data)).toEqual(mine.map((e) => e.data));
  });

  it('rejects a start for a workflow that already exists', () => {
    const s = new Scenario(twoRoots as WorkflowDefinitionInput).start({ symbol: 'ACME' });
    given(s.events).when(start(twoRoots)).thenRejects(/already exists \(running\)/, CommandRejectedError);
  });

  it('rejects an input missing a required path, naming it', () => {
    given([]).when(start(twoRoots, { other: 1 })).thenRejects(/input is missing "symbol"/, CommandRejectedError);
  });

  it('rejects an invalid definition, naming the step and field', () => {
    const bad = { ...twoRoots, steps: [...twoRoots.steps, { id: 'late', action: 'x', capability: 'x', dependsOn: ['ghost'] }] };
    given([]).when(start(bad)).thenRejects(/step "late" dependsOn: unknown step "ghost"/, CommandRejectedError);
  });

  it('lets a step whose capability has no agent wait for one, without failing or using up an attempt', () => {
    const events = given([]).when(start(twoRoots), ctx({ candidates: (c) => (c === 'y' ? [] : ['x-1']) })).then([
      { type: 'WorkflowStarted' },
      { type: 'StepScheduled', data: { stepId: 'r1' } },
      { type: 'StepWaitingForAgent', data: { stepId: 'r2', attempt: 1, capability: 'y' } },
    ]);
    // A wake with still no agent decides nothing; once one is there, the attempt is scheduled.
    given(events).when({ kind: 'wake' }, ctx({ candidates: (c) => (c === 'y' ? [] : ['x-1']) })).thenNothing();
    given(events).when({ kind: 'wake' }).then([{ type: 'StepScheduled', data: { stepId: 'r2', attempt: 1, agentId: 'y-1' } }]);
  });

  it('fails a waiting step after its scheduleToStartTimeoutMs, not retried', () => {
    const def = { name: 'w', failureStrategy: 'fail' as const, steps: [{ id: 'a', action: 'a', capability: 'x', scheduleToStartTimeoutMs: 1_000 }] };
    const none = ctx({ candidates: () => [] });
    const events = given([]).when(start(def), none).then([{ type: 'WorkflowStarted' }, { type: 'StepWaitingForAgent', data: { stepId: 'a', attempt: 1 } }]);
    given(events).when({ kind: 'timer', timer: { kind: 'agentWaitTimeout', stepId: 'a', attempt: 1 } }, ctx({ now: T0 + 999, candidates: () => [] })).thenNothing();
    given(events).when({ kind: 'timer', timer: { kind: 'agentWaitTimeout', stepId: 'a', attempt: 1 } }, ctx({ now: T0 + 1_000, candidates: () => [] })).then([
      { type: 'StepFailed', data: { stepId: 'a', error: { code: 'NO_AGENT', retryable: false } } },
      { type: 'WorkflowFailed', data: { failedStepId: 'a' } },
    ]);
  });

  it('fails a step whose input mapping reads a missing path, without retrying', () => {
    const def = { name: 'm', failureStrategy: 'fail' as const, steps: [{ id: 'a', action: 'a', capability: 'x', input: { deep: 'input.portfolio.positions.0.symbol' } }] };
    given([]).when(start(def, { portfolio: { positions: [] } })).then([
      { type: 'WorkflowStarted' },
      { type: 'StepFailed', data: { stepId: 'a', attempt: 1, error: { code: 'MAPPING_ERROR', retryable: false } } },
      { type: 'WorkflowFailed', data: { failedStepId: 'a' } },
    ]);
  });

  it('reads array indices in input mappings', () => {
    const def = { name: 'm', steps: [{ id: 'a', action: 'a', capability: 'x', input: { symbol: 'input.portfolio.positions.1.symbol' } }] };
    given([]).when(start(def, { portfolio: { positions: [{ symbol: 'A' }, { symbol: 'B' }] } })).then([
      { type: 'WorkflowStarted' },
      { type: 'StepScheduled', data: { stepId: 'a', input: { symbol: 'B' } } },
    ]);
  });

  it('starts no more steps than the parallelism limit allows, and the next when one settles', () => {
    const def = { name: 'wide', limits: { maxParallelSteps: 2 }, steps: ['p', 'q', 'r'].map((id) => ({ id, action: id, capability: 'x' })) };
    const s = new Scenario(def);
    s.start();
    expect(s.types()).toEqual(['WorkflowStarted', 'StepScheduled', 'StepScheduled']);
    given(s.events).when({ kind: 'stepResult', stepId: 'p', attempt: 1, outcome: { ok: true, output: null } }).then([
      { type: 'StepSucceeded', data: { stepId: 'p' } },
      { type: 'StepScheduled', data: { stepId: 'r' } },
    ]);
  });

  it('accepts an already validated definition and hashes it the same as its raw form', () => {
    const raw = given([]).when(start(diamond())).then([{ type: 'WorkflowStarted' }, { type: 'StepScheduled' }]);
    const validated = given([]).when(start(validateDefinition(diamond()))).then([{ type: 'WorkflowStarted' }, { type: 'StepScheduled' }]);
    expect(validated).toEqual(raw);
  });
});
