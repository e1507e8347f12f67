/** The published JSON Schema is the one the zod schema generates: `npm run schema` after changing the format. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DEFINITION_SCHEMA_FILE, workflowDefinitionJsonSchema, workflowDefinitionJsonSchemaText } from '../../src/workflow/json-schema.js';

describe('the definition JSON Schema', () => {
  it('is committed as generated (run `npm run schema` if this fails)', () => {
    const committed = readFileSync(new URL(`../../${DEFINITION_SCHEMA_FILE}`, import.meta.url), 'utf8');
    expect(committed).toBe(workflowDefinitionJsonSchemaText());
  });

  it('lets a file name its schema, and refuses keys the format does not have', () => {
    const schema = workflowDefinitionJsonSchema() as { properties: Record<string, unknown>; additionalProperties: unknown; required: string[] };
    expect(schema.properties.$schema).toMatchObject({ type: 'string' });
    expect(schema.additionalProperties).toBe(false);
    expect(schema.required).toEqual(['name', 'steps']);
  });
});
