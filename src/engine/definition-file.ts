/**
 * Loading a workflow definition from a JSON file: what `cadenza validate`, `cadenza run <file>` and
 * the worker use. The parsing and the problems it names are src/workflow/definition-text.ts; this
 * adds the reading.
 */
import { readFile } from 'node:fs/promises';
import type { WorkflowDefinition } from '../workflow/definition.js';
import { DefinitionFileError, parseDefinitionText } from '../workflow/definition-text.js';

/** Read, parse and validate a definition file; throws `DefinitionFileError` naming every problem. */
export async function loadDefinitionFile(path: string): Promise<WorkflowDefinition> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message;
    throw new DefinitionFileError(path, [{ field: '(file)', message: `cannot read it: ${reason}` }]);
  }
  return parseDefinitionText(text, path);
}
