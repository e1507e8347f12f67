/**
 * The name of a workflow's stream, `workflow-<id>`, and what a workflow id may be. The one place
 * either is spelled: the runtime, the operator tools, the CLI and the read models all ask here.
 */
export const WORKFLOW_STREAM_PREFIX = 'workflow-';

const workflowIdPattern = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,199}$/;

export class InvalidWorkflowIdError extends Error {
  constructor(readonly workflowId: string) {
    super(`Invalid workflow id "${workflowId}": use 1-200 letters, digits, ".", "_", ":" or "-", starting with a letter or digit`);
    this.name = 'InvalidWorkflowIdError';
  }
}

export function assertWorkflowId(workflowId: string): void {
  if (!workflowIdPattern.test(workflowId)) throw new InvalidWorkflowIdError(workflowId);
}

export function workflowStream(workflowId: string): string {
  return `${WORKFLOW_STREAM_PREFIX}${workflowId}`;
}

/** The workflow id of a `workflow-<id>` stream, or undefined for any other stream. */
export function workflowIdOf(stream: string): string | undefined {
  return stream.startsWith(WORKFLOW_STREAM_PREFIX) ? stream.slice(WORKFLOW_STREAM_PREFIX.length) : undefined;
}
