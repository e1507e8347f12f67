import { describe, expect, it } from 'vitest';
import { EventParseError, eventSchemaVersions, parseWorkflowEvent, workflowEventTypes } from '../../src/saga/index.js';
import { Scenario, diamond } from './spec.js';

describe('parseWorkflowEvent', () => {
  it('reads back every event decide writes, through JSON', () => {
    const s = new Scenario(diamond()).start({ id: 1 }).succeed('a').fail('b').timeOut('c').command({ type: 'cancel' });
    for (const event of s.events) {
      const stored = JSON.parse(JSON.stringify(event.data));
      expect(parseWorkflowEvent(event.type, stored, { schemaVersion: 1 }, event.id)).toEqual(event);
    }
  });

  it('rejects unknown types and versions clearly', () => {
    expect(() => parseWorkflowEvent('StepExploded', {})).toThrow('Unknown workflow event type "StepExploded"');
    expect(() => parseWorkflowEvent('StepSkipped', {}, { schemaVersion: 7 })).toThrow('Unsupported schema version 7 for StepSkipped (this build reads 1..1)');
    expect(() => parseWorkflowEvent('StepSkipped', {}, { schemaVersion: 'x' })).toThrow(EventParseError);
  });

  it('names the invalid field', () => {
    expect(() => parseWorkflowEvent('StepSkipped', { workflowId: 'w', at: 1, stepId: 's', attempts: -1, reason: 'r' })).toThrow(/Invalid StepSkipped event data: attempts:/);
  });

  it('has a schema version for every type', () => {
    expect(Object.keys(eventSchemaVersions).sort()).toEqual([...workflowEventTypes].sort());
  });
});
