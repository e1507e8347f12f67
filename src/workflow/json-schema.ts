/**
 * The JSON Schema of the definition format, generated from the zod schema (never written by hand,
 * so it cannot drift): what editors use to check a definition file as it is typed. Input mode, so
 * fields with defaults are optional, as they are when writing a file. `npm run schema` writes it to
 * schema/workflow-definition.schema.json; a test fails when the committed file is not what this gives.
 */
import { z } from 'zod';
import { workflowDefinitionSchema } from './definition.js';

/** Where the published schema lives in the package (`cadenza/schema/workflow-definition.schema.json`). */
export const DEFINITION_SCHEMA_FILE = 'schema/workflow-definition.schema.json';

export function workflowDefinitionJsonSchema(): Record<string, unknown> {
  const generated = z.toJSONSchema(workflowDefinitionSchema, { io: 'input', target: 'draft-2020-12' }) as Record<string, unknown> & { properties: Record<string, unknown> };
  const { $schema, ...rest } = generated;
  return {
    $schema,
    title: 'cadenza workflow definition',
    description: 'A workflow: a DAG of steps, each an action performed by an agent with a capability. See docs/workflows.md.',
    ...rest,
    // The file may name this schema for its editor; the loader sets the key aside.
    properties: { $schema: { type: 'string', description: 'The JSON Schema this file follows (for editors).' }, ...rest.properties },
  };
}

/** The schema as the committed file holds it. */
export function workflowDefinitionJsonSchemaText(): string {
  return `${JSON.stringify(workflowDefinitionJsonSchema(), null, 2)}\n`;
}
