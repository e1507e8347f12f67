/** The event the store benchmarks write: a typical engine event, ~250 bytes of data and metadata. */
import { randomUUID } from 'node:crypto';
import type { EventData } from '../../src/store/port.js';

export function sampleEvent(index: number): EventData {
  return {
    id: randomUUID(),
    type: 'StepSucceeded',
    data: { workflowId: `wf-${index % 1000}`, stepId: `step-${index % 7}`, attempt: 1, output: { price: 101.25, quantity: index, venue: 'XNAS' } },
    metadata: { correlationId: `corr-${index}`, causationId: randomUUID(), definitionHash: 'a1b2c3d4e5f6' },
  };
}
