/**
 * Decoding a recorded event of a `workflow-<id>` stream for the workflow read models: validated by
 * the core's catalogue (unknown types and versions throw, which the runner records as poison), with
 * the few envelope fields the folds need.
 */
import { parseWorkflowEvent, type WorkflowEvent } from '../../src/saga/events.js';
import type { RecordedEvent } from '../../src/store/port.js';

export const WORKFLOW_STREAM_PREFIX = 'workflow-';

export interface WorkflowInput {
  readonly event: WorkflowEvent;
  readonly revision: number;
  readonly correlationId: string | undefined;
}

export function decodeWorkflowEvent(recorded: RecordedEvent): WorkflowInput | undefined {
  if (!recorded.stream.startsWith(WORKFLOW_STREAM_PREFIX)) return undefined;
  const event = parseWorkflowEvent(recorded.type, recorded.data, recorded.metadata, recorded.id);
  const correlationId = recorded.metadata.correlationId;
  return { event, revision: Number(recorded.revision), correlationId: typeof correlationId === 'string' ? correlationId : undefined };
}
