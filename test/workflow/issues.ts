/** Helpers of the definition tests: a minimal step, and the issues a definition is refused with. */
import { DefinitionError, validateDefinition, type DefinitionIssue } from '../../src/workflow/index.js';

export const step = (id: string, extra: object = {}) => ({ id, action: `do-${id}`, capability: 'x', ...extra });

/** The issues `validateDefinition` refuses `input` with; throws if it is accepted. */
export function issuesOf(input: unknown): readonly DefinitionIssue[] {
  try {
    validateDefinition(input);
  } catch (error) {
    if (error instanceof DefinitionError) return error.issues;
    throw error;
  }
  throw new Error('expected a DefinitionError');
}
