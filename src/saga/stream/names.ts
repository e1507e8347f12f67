/**
 * The name of a workflow's stream, `workflow-<id>`, and what a workflow id may be. The one place
 * either is spelled: the runtime, the operator tools, the CLI and the read models all ask here.
 */
export const WORKFLOW_STREAM_PREFIX = 'workflow-';

const MAX_WORKFLOW_ID_LENGTH = 200;
const workflowIdPattern = new RegExp(`^[A-Za-z0-9][A-Za-z0-9._:-]{0,${MAX_WORKFLOW_ID_LENGTH - 1}}$`);

export class InvalidWorkflowIdError extends Error {
  constructor(readonly workflowId: string) {
    // Shown escaped and shortened: the id is what was wrong, and may hold a newline or be huge.
    const shown = JSON.stringify(workflowId.length > 40 ? `${workflowId.slice(0, 40)}…` : workflowId);
    super(
      workflowId.length > MAX_WORKFLOW_ID_LENGTH
        ? `Invalid workflow id ${shown}: it is ${workflowId.length} characters long, the maximum is ${MAX_WORKFLOW_ID_LENGTH}`
        : `Invalid workflow id ${shown}: use 1-${MAX_WORKFLOW_ID_LENGTH} letters, digits, ".", "_", ":" or "-", starting with a letter or digit`,
    );
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
