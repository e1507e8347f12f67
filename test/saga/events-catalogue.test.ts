/**
 * The catalogue as a reader meets it (docs/events.md, "The catalogue", "Schema versions and
 * upcasting"): every event decide writes reads back, including the re-sends and every cause of a
 * compensation; payloads need only be present; refusals name every broken field and the event type;
 * the terminal events are exactly the six listed. Found by mutating src/saga/events.ts
 * (docs/testing.md, "Mutation testing").
 */
import { describe, expect, it } from 'vitest';
import { terminalEventTypes } from '../../src/saga/events.js';
import { EventParseError, parseWorkflowEvent, stepStates, workflowEventTypes, type WorkflowEvent } from '../../src/saga/index.js';
import { Scenario, diamond } from './spec.js';

/** What a store hands back: the data through JSON, no metadata (version 1). */
function readBack(event: WorkflowEvent): WorkflowEvent {
  return parseWorkflowEvent(event.type, JSON.parse(JSON.stringify(event.data)), undefined, event.id);
}

function thrown(read: () => unknown): EventParseError {
  try {
    read();
  } catch (error) {
    if (error instanceof EventParseError) return error;
    throw error;
  }
  throw new Error('nothing was thrown');
}

describe('every event decide writes reads back as it was written (events.md, "The catalogue")', () => {
  it('reads back the re-sends of a restarted runtime, StepResumed and CompensationResumed', () => {
    const steps = new Scenario(diamond()).start();
    steps.apply({ kind: 'resume', reason: 'restart' });
    const compensations = new Scenario(diamond()).start().succeed('a').succeed('b').succeed('c').fail('d', false);
    compensations.apply({ kind: 'resume', reason: 'restart' });
    const resumed = [...steps.events, ...compensations.events].filter((e) => e.type === 'StepResumed' || e.type === 'CompensationResumed');
    expect(resumed.map((e) => e.type)).toEqual(['StepResumed', 'CompensationResumed', 'CompensationResumed']);
    for (const event of resumed) expect(readBack(event)).toEqual(event);
    const [step] = resumed;
    expect(() => parseWorkflowEvent('StepResumed', { ...step?.data, agentId: '' })).toThrow(/^Invalid StepResumed event data: agentId: /);
    expect(() => parseWorkflowEvent('StepResumed', { ...step?.data, idempotencyKey: '' })).toThrow(/^Invalid StepResumed event data: idempotencyKey: /);
  });

  it('reads back a compensation for each of its causes: a failure, an operator\'s compensate, a cancel', () => {
    const ended = (s: Scenario): Scenario => {
      // Answers every call in flight, steps and compensations alike, until nothing is running.
      for (let round = 0; ; round++) {
        const running = stepStates(s.state).filter((st) => st.status === 'running' || st.compensation.status === 'running');
        if (running.length === 0) return s;
        if (round === 20) throw new Error(`still running after 20 rounds of answers: ${running.map((st) => st.id).join(', ')}`);
        for (const st of running) {
          if (st.compensation.status === 'running') s.compensated(st.id);
          else s.succeed(st.id);
        }
      }
    };
    const failure = ended(new Scenario(diamond()).start().succeed('a').fail('b', false));
    const command = ended(new Scenario(diamond()).start().succeed('a').command({ type: 'compensate' }));
    const cancel = ended(new Scenario(diamond()).start().succeed('a').command({ type: 'cancel' }));
    for (const [s, cause, end] of [[failure, 'failure', 'WorkflowCompensated'], [command, 'command', 'WorkflowCompensated'], [cancel, 'cancel', 'WorkflowCancelled']] as const) {
      expect(s.events.find((e) => e.type === 'CompensationStarted')?.data).toMatchObject({ cause });
      expect(s.events.at(-1)?.type).toBe(end);
      for (const event of s.events) expect(readBack(event)).toEqual(event);
    }
  });
});

describe('payloads are only required to be present (events.md, "Schema versions and upcasting")', () => {
  const scheduled = new Scenario(diamond()).start().events.find((e) => e.type === 'StepScheduled');
  const data = JSON.parse(JSON.stringify(scheduled?.data)) as Record<string, unknown>;

  it('refuses a missing input, or one present as undefined, as not a JSON value', () => {
    const { input, ...withoutInput } = data;
    void input;
    expect(() => parseWorkflowEvent('StepScheduled', withoutInput)).toThrow(new EventParseError('StepScheduled', 'Invalid StepScheduled event data: input: must be a JSON value'));
    expect(() => parseWorkflowEvent('StepScheduled', { ...data, input: undefined })).toThrow('Invalid StepScheduled event data: input: must be a JSON value');
  });

  it('accepts any JSON value, null included, without looking inside', () => {
    for (const input of [null, 0, '', [], { deep: [{ x: 1 }] }]) expect(parseWorkflowEvent('StepScheduled', { ...data, input }).data).toMatchObject({ input });
  });
});

describe('refusals name the event type and every broken field (events.md: "invalid data throw EventParseError naming the field")', () => {
  it('names each broken field of an event, separated by "; "', () => {
    expect(() => parseWorkflowEvent('StepSkipped', { workflowId: '', at: 1, stepId: 's', attempts: -1, reason: 'r' })).toThrow(/^Invalid StepSkipped event data: workflowId: [^;]+; attempts: [^;]+$/);
  });

  it('names each broken field of a WorkflowStarted stored by reference, separated by "; "', () => {
    const started = new Scenario(diamond()).start().events[0] as Extract<WorkflowEvent, { type: 'WorkflowStarted' }>;
    const { definition, ...stored } = started.data;
    expect(() => parseWorkflowEvent('WorkflowStarted', { ...stored, workflowId: '', at: 1.5 }, { schemaVersion: 2 }, '', () => definition)).toThrow(/^Invalid WorkflowStarted event data: workflowId: [^;]+; at: [^;]+$/);
  });

  it('refuses a WorkflowStarted whose data is not an object, whatever it is', () => {
    for (const data of [5, 'started', true]) {
      expect(() => parseWorkflowEvent('WorkflowStarted', data, { schemaVersion: 2 })).toThrow(/^Invalid WorkflowStarted event data: \(data\): /);
    }
  });

  it('throws an EventParseError carrying the event type, on every path', () => {
    const started = new Scenario(diamond()).start().events[0] as Extract<WorkflowEvent, { type: 'WorkflowStarted' }>;
    const { definition, ...stored } = started.data;
    void definition;
    const refusals = [
      thrown(() => parseWorkflowEvent('StepSkipped', {})),
      thrown(() => parseWorkflowEvent('StepSkipped', {}, { schemaVersion: 2 })),
      thrown(() => parseWorkflowEvent('WorkflowStarted', { ...stored, at: 'later' }, { schemaVersion: 2 })),
      thrown(() => parseWorkflowEvent('WorkflowStarted', stored, { schemaVersion: 2 })),
    ];
    expect(refusals.map((e) => [e.name, e.eventType])).toEqual([
      ['EventParseError', 'StepSkipped'], ['EventParseError', 'StepSkipped'], ['EventParseError', 'WorkflowStarted'], ['EventParseError', 'WorkflowStarted'],
    ]);
    expect(thrown(() => parseWorkflowEvent('StepExploded', {})).eventType).toBe('StepExploded');
  });

  it('gives an event read without an id the empty id', () => {
    expect(parseWorkflowEvent('WorkflowAdmitted', { workflowId: 'w', at: 1 }).id).toBe('');
  });
});

describe('terminal events (events.md, "Terminal events")', () => {
  it('are exactly the six the docs list, all of them catalogue types', () => {
    const terminal = ['WorkflowCompleted', 'WorkflowFailed', 'WorkflowCompensated', 'WorkflowCompensationFailed', 'WorkflowCancelled', 'WorkflowResolved'];
    expect([...terminalEventTypes].sort()).toEqual([...terminal].sort());
    for (const type of workflowEventTypes) expect(terminalEventTypes.has(type)).toBe(terminal.includes(type));
  });
});
