/**
 * Reading stored events (docs/events.md, "Schema versions and upcasting" and "The catalogue"):
 * the version rules, the definition by reference, and the field rules of the catalogue, each
 * refused with an EventParseError that names the field. Found by mutating the core
 * (docs/testing.md, "Mutation testing").
 */
import { describe, expect, it } from 'vitest';
import { EventParseError, parseWorkflowEvent, type WorkflowEvent } from '../../src/saga/index.js';
import { Scenario, diamond } from './spec.js';

/** A history with every common event type, as decide wrote it. */
function history(): WorkflowEvent[] {
  const s = new Scenario(diamond()).start({ k: 1 }).succeed('a').fail('b').retryDue('b').timeOut('c');
  s.at(s.now + 50).succeed('b');
  s.command({ type: 'cancel' });
  return s.events;
}

function find<T extends WorkflowEvent['type']>(events: WorkflowEvent[], type: T): Extract<WorkflowEvent, { type: T }> {
  const event = events.find((e) => e.type === type);
  if (!event) throw new Error(`no ${type}`);
  return event as Extract<WorkflowEvent, { type: T }>;
}

describe('schema versions (events.md: a missing version is read as 1; newer versions than this build are refused)', () => {
  it('reads an event without metadata, or without a version in it, as version 1', () => {
    const skipped = { workflowId: 'w', at: 1, stepId: 's', attempts: 2, reason: 'r' };
    expect(parseWorkflowEvent('StepSkipped', skipped).data).toEqual(skipped);
    expect(parseWorkflowEvent('StepSkipped', skipped, {}, 'id-1')).toEqual({ id: 'id-1', type: 'StepSkipped', data: skipped });
  });

  it('refuses version 0, a fraction and a version past the current one, naming the range it reads', () => {
    const started = find(history(), 'WorkflowStarted');
    for (const version of [0, 1.5, 3]) {
      expect(() => parseWorkflowEvent('WorkflowStarted', started.data, { schemaVersion: version })).toThrow(`Unsupported schema version ${version} for WorkflowStarted (this build reads 1..2)`);
    }
    expect(parseWorkflowEvent('WorkflowStarted', JSON.parse(JSON.stringify(started.data)), { schemaVersion: 2 }).data).toEqual(started.data);
  });

  it('upcasts a version-1 WorkflowStarted with its definition inline', () => {
    const started = find(history(), 'WorkflowStarted');
    expect(parseWorkflowEvent('WorkflowStarted', JSON.parse(JSON.stringify(started.data)), { schemaVersion: 1 }, started.id)).toEqual(started);
  });
});

describe('WorkflowStarted by reference (events.md, "Stored form")', () => {
  it('takes the definition from the lookup by its hash', () => {
    const started = find(history(), 'WorkflowStarted');
    const { definition, ...stored } = started.data;
    const lookups: string[] = [];
    const parsed = parseWorkflowEvent('WorkflowStarted', stored, { schemaVersion: 2 }, started.id, (hash) => {
      lookups.push(hash);
      return definition;
    });
    expect(parsed).toEqual(started);
    expect(lookups).toEqual([started.data.definitionHash]);
  });

  it('refuses a definition that is not loaded, naming its hash, and invalid stored data, naming the field', () => {
    const started = find(history(), 'WorkflowStarted');
    const { definition, ...stored } = started.data;
    void definition;
    expect(() => parseWorkflowEvent('WorkflowStarted', stored, { schemaVersion: 2 })).toThrow(`WorkflowStarted refers to definition ${started.data.definitionHash}, which is not loaded`);
    expect(() => parseWorkflowEvent('WorkflowStarted', stored, { schemaVersion: 2 }, '', () => undefined)).toThrow(EventParseError);
    expect(() => parseWorkflowEvent('WorkflowStarted', { ...stored, workflowId: '' }, { schemaVersion: 2 }, '', () => definition)).toThrow(/^Invalid WorkflowStarted event data: workflowId: /);
    expect(() => parseWorkflowEvent('WorkflowStarted', null, { schemaVersion: 2 })).toThrow(/^Invalid WorkflowStarted event data: \(data\): /);
  });
});

describe('the catalogue\'s field rules: each broken one is refused, naming the field (events.md)', () => {
  const events = history();
  const data = <T extends WorkflowEvent['type']>(type: T) => JSON.parse(JSON.stringify(find(events, type).data)) as Record<string, unknown>;
  const cases: [WorkflowEvent['type'], string, unknown][] = [
    ['StepScheduled', 'workflowId', ''],
    ['StepScheduled', 'stepId', ''],
    ['StepScheduled', 'attempt', 0],
    ['StepScheduled', 'agentId', ''],
    ['StepScheduled', 'action', ''],
    ['StepScheduled', 'capability', ''],
    ['StepScheduled', 'idempotencyKey', ''],
    ['StepScheduled', 'input', undefined],
    ['StepScheduled', 'deadline', 1.5],
    ['StepSucceeded', 'output', undefined],
    ['StepSucceeded', 'durationMs', -1],
    ['StepFailed', 'error', { message: 'x', retryable: 'yes' }],
    ['StepTimedOut', 'attempt', 0],
    ['StepRetryScheduled', 'nextAttempt', 0],
    ['StepRetryScheduled', 'delayMs', -1],
    ['CompensationStarted', 'cause', 'boredom'],
    ['CompensationScheduled', 'attempt', 0],
    ['CompensationScheduled', 'compensates', [1]],
  ];

  it.each(cases)('%s with a bad %s', (type, field, value) => {
    const valid = data(type);
    expect(() => parseWorkflowEvent(type, valid)).not.toThrow();
    const bad = { ...valid, [field]: value };
    if (value === undefined) delete bad[field];
    expect(() => parseWorkflowEvent(type, bad)).toThrow(new RegExp(`^Invalid ${type} event data: ${field}(\\.\\w+)?: `));
  });

  it('accepts the boundaries: attempt and round 1, durations and delays 0, later attempts', () => {
    const succeeded = { ...data('StepSucceeded'), attempt: 7, durationMs: 0 };
    expect(parseWorkflowEvent('StepSucceeded', succeeded).data).toEqual(succeeded);
    const retry = { ...data('StepRetryScheduled'), nextAttempt: 9, delayMs: 0 };
    expect(parseWorkflowEvent('StepRetryScheduled', retry).data).toEqual(retry);
    const paused = { workflowId: 'w', at: 1, round: 1, reason: 'r' };
    expect(parseWorkflowEvent('WorkflowPaused', paused).data).toEqual(paused);
    expect(() => parseWorkflowEvent('WorkflowPaused', { ...paused, round: 0 })).toThrow(/round/);
  });

  it('refuses a compensation round below 2, an empty resolution note, and fields the catalogue does not have', () => {
    const retried = { workflowId: 'w', at: 1, round: 2, reason: 'r', retrySteps: ['a'] };
    expect(parseWorkflowEvent('CompensationRetried', retried).data).toEqual(retried);
    expect(() => parseWorkflowEvent('CompensationRetried', { ...retried, round: 1 })).toThrow(/^Invalid CompensationRetried event data: round: /);
    expect(() => parseWorkflowEvent('WorkflowResolved', { workflowId: 'w', at: 1, note: '', unresolvedSteps: [] })).toThrow(/^Invalid WorkflowResolved event data: note: /);
    expect(() => parseWorkflowEvent('StepSkipped', { workflowId: 'w', at: 1, stepId: 's', attempts: 0, reason: 'r', extra: 1 })).toThrow('Invalid StepSkipped event data: (data): Unrecognized key: "extra"');
  });
});
