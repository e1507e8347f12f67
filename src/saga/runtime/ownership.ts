/**
 * Which runtime drives which workflow: a runtime hosts definitions by name and version, and drives
 * only the workflows started from them (the snapshot in WorkflowStarted says which). Every other
 * workflow in the store is left untouched, so a worker never fails a workflow for lacking its agents.
 */
import type { WorkflowDefinition } from '../../workflow/definition.js';

/** `name@version`: how a hosted definition and a workflow's snapshot are matched. */
export function definitionKey(definition: Pick<WorkflowDefinition, 'name' | 'version'>): string {
  return `${definition.name}@${definition.version}`;
}
