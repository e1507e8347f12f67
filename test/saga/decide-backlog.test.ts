/**
 * The durable backlog in the pure core: a start stored queued, its admission, and what a queued
 * workflow does with the other triggers. Whether to admit is the runtime's call (an input here).
 */
import { describe, expect, it } from 'vitest';
import { CommandRejectedError, foldEvents, pendingTimers, type Trigger, type WorkflowEvent } from '../../src/saga/index.js';
import { fromRecorded, toEventData } from '../../src/saga/stream/index.js';
import type { RecordedEvent } from '../../src/store/port.js';
import type { Json, WorkflowDefinitionInput } from '../../src/workflow/index.js';
import { T0, ctx, diamond, given } from './spec.js';

const start = (options: { admit?: boolean; priority?: number } = {}, workflowId = 'wf-1'): Trigger =>
  ({ kind: 'command', command: { type: 'start', workflowId, definition: diamond() as WorkflowDefinitionInput, input: {} as Json, ...options } });

function queued(priority?: number): WorkflowEvent[] {
  return given([]).when(start({ admit: false, ...(priority === undefined ? {} : { priority }) })).then([{ type: 'WorkflowStarted' }]);
}

describe('when a start arrives without a slot (admit: false)', () => {
  it('stores WorkflowStarted queued, with its priority, and schedules nothing', () => {
    const events = given([]).when(start({ admit: false, priority: 7 })).then([{ type: 'WorkflowStarted', data: { queued: true, priority: 7 } }]);
    const state = foldEvents(events);
    expect(state).toMatchObject({ status: 'queued', priority: 7, startedAt: T0 });
    expect(pendingTimers(state)).toEqual([]);
  });

  it('leaves the defaults out of an admitted start: it is stored as every start was before the backlog', () => {
    const [started] = given([]).when(start()).then([{ type: 'WorkflowStarted' }, { type: 'StepScheduled', data: { stepId: 'a' } }]);
    expect(started?.data).not.toHaveProperty('queued');
    expect(started?.data).not.toHaveProperty('priority');
    expect(foldEvents([started as WorkflowEvent])).toMatchObject({ status: 'running', priority: 0 });
  });

  it('refuses a priority outside -100..100 or not an integer, naming it, and decides nothing', () => {
    given([]).when(start({ priority: 101 })).thenRejects(/priority must be an integer from -100 to 100, got 101/, CommandRejectedError);
    given([]).when(start({ priority: -101, admit: false })).thenRejects(/got -101/, CommandRejectedError);
    given([]).when(start({ priority: 1.5 })).thenRejects(/got 1.5/, CommandRejectedError);
    given([]).when(start({ priority: 100 })).then([{ type: 'WorkflowStarted', data: { priority: 100 } }, { type: 'StepScheduled' }]);
  });
});

describe('when a queued workflow is admitted', () => {
  it('records WorkflowAdmitted and schedules its ready steps in the same decision', () => {
    const events = given(queued(3)).when({ kind: 'admit' }, ctx({ now: T0 + 500 })).then([
      { type: 'WorkflowAdmitted', data: { workflowId: 'wf-1', at: T0 + 500 } },
      { type: 'StepScheduled', data: { stepId: 'a', attempt: 1, deadline: T0 + 500 + 5_000 } },
    ]);
    expect(foldEvents([...queued(3), ...events])).toMatchObject({ status: 'running', priority: 3, startedAt: T0, runningSteps: 1 });
  });

  it('decides nothing when it is no longer queued: admitted by another runtime first, or cancelled', () => {
    const admitted = [...queued(), ...given(queued()).when({ kind: 'admit' }).then([{ type: 'WorkflowAdmitted' }, { type: 'StepScheduled' }])];
    given(admitted).when({ kind: 'admit' }).thenNothing();
    const cancelled = [...queued(), ...given(queued()).when({ kind: 'command', command: { type: 'cancel' } }).then([{ type: 'WorkflowCancelled' }])];
    given(cancelled).when({ kind: 'admit' }).thenNothing();
    given([]).when({ kind: 'admit' }).thenNothing();
  });

  it('gives two runtimes\' admissions different ids, so the store fences them by revision and never takes one for the other', () => {
    const [mine] = given(queued()).when({ kind: 'admit' }, ctx({ deciderId: 'runtime-a' })).then([{ type: 'WorkflowAdmitted' }, { type: 'StepScheduled' }]);
    const [theirs] = given(queued()).when({ kind: 'admit' }, ctx({ deciderId: 'runtime-b' })).then([{ type: 'WorkflowAdmitted' }, { type: 'StepScheduled' }]);
    expect(mine?.id).not.toBe(theirs?.id);
  });
});

describe('a queued workflow and the other triggers', () => {
  it('ends at once when cancelled, with nothing to compensate', () => {
    const events = given(queued()).when({ kind: 'command', command: { type: 'cancel', reason: 'not needed' } }).then([
      { type: 'WorkflowCancelled', data: { reason: 'not needed', compensatedSteps: [] } },
    ]);
    expect(foldEvents([...queued(), ...events]).status).toBe('cancelled');
  });

  it('refuses compensate and retry (nothing of it has run) and decides nothing on a wake or a resume', () => {
    given(queued()).when({ kind: 'command', command: { type: 'compensate' } }).thenRejects(/Cannot compensate: workflow wf-1 is queued \(nothing of it has run: cancel it\)/, CommandRejectedError);
    given(queued()).when({ kind: 'command', command: { type: 'retry' } }).thenRejects(/Cannot retry: workflow wf-1 is queued/, CommandRejectedError);
    given(queued()).when({ kind: 'wake' }).thenNothing();
    given(queued()).when({ kind: 'resume', reason: 'restart' }).thenNothing();
    given(queued()).when({ kind: 'timer', timer: { kind: 'stepTimeout', stepId: 'a', attempt: 1 } }, ctx({ now: T0 + 60_000 })).thenNothing();
  });
});

describe('WorkflowStarted as stored', () => {
  const recorded = (data: unknown, metadata: unknown = { schemaVersion: 2 }): RecordedEvent =>
    ({ stream: 'workflow-wf-1', type: 'WorkflowStarted', revision: 0n, position: { commit: 0n, prepare: 0n }, id: 'e-0', data, metadata, created: new Date(T0) }) as RecordedEvent;

  it('folds an event written before the backlog (no queued, no priority) as running, priority 0', () => {
    const [started] = given([]).when(start()).then([{ type: 'WorkflowStarted' }, { type: 'StepScheduled' }]);
    const { definition: _inline, ...old } = (started as Extract<WorkflowEvent, { type: 'WorkflowStarted' }>).data;
    // Version 1 carried the definition inline; version 2 refers to it by hash. Neither had the new fields.
    const v1 = fromRecorded(recorded({ ...old, definition: (started as Extract<WorkflowEvent, { type: 'WorkflowStarted' }>).data.definition }, {}));
    expect(foldEvents([v1])).toMatchObject({ status: 'running', priority: 0 });
  });

  it('keeps queued and priority through the codec, and refuses a stored priority out of range, naming the field', () => {
    const [started] = queued(-40);
    const stored = toEventData(started as WorkflowEvent, { correlationId: 'wf-1', causationId: 'c' });
    expect(stored.data).toMatchObject({ queued: true, priority: -40 });
    const withDefinition = { ...(stored.data as object), definition: (started as Extract<WorkflowEvent, { type: 'WorkflowStarted' }>).data.definition };
    expect(foldEvents([fromRecorded(recorded(withDefinition))])).toMatchObject({ status: 'queued', priority: -40 });
    expect(() => fromRecorded(recorded({ ...withDefinition, priority: 500 }))).toThrow(/Invalid WorkflowStarted event data: priority: /);
  });
});
