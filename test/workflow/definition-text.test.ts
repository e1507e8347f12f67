/** Definitions written as JSON text: syntax errors and every definition problem at its line and column. */
import { describe, expect, it } from 'vitest';
import { DefinitionError, DefinitionFileError, parseDefinitionText, type LocatedIssue } from '../../src/index.js';

function issuesOf(text: string): readonly LocatedIssue[] {
  try {
    parseDefinitionText(text, 'order.json');
  } catch (error) {
    if (error instanceof DefinitionFileError) return error.issues;
    throw error;
  }
  throw new Error('expected a DefinitionFileError');
}

const lines = (...rows: string[]) => rows.join('\n');

describe('parseDefinitionText', () => {
  it('sets the $schema key aside and returns the validated definition', () => {
    const definition = parseDefinitionText(JSON.stringify({ $schema: './schema.json', name: 'w', steps: [{ id: 'a', action: 'go', capability: 'x' }] }));
    expect(definition).toMatchObject({ name: 'w', version: 1, steps: [{ id: 'a', retry: { maxAttempts: 3 } }] });
    expect(definition).not.toHaveProperty('$schema');
  });

  it('reports a syntax error at its line and column', () => {
    expect(issuesOf(lines('{', '  "name": "w",', '  "steps": [', '    { "id": "a" },', '  ]', '}'))).toEqual([{ field: '(json)', message: 'not valid JSON: value expected', line: 5, column: 3 }]);
    expect(issuesOf('')).toEqual([{ field: '(json)', message: 'not valid JSON: value expected', line: 1, column: 1 }]);
    expect(issuesOf('[1]')).toEqual([{ field: '(definition)', message: 'must be a JSON object, not array', line: 1, column: 1 }]);
  });

  it('names the step, the field and why for every problem, schema and graph alike, at the field', () => {
    const text = lines(
      '{',
      '  "name": "order",',
      '  "steps": [',
      '    { "id": "charge", "action": "charge", "capability": "payments",',
      '      "retry": { "jitter": 2 } },',
      '    { "id": "ship", "action": "ship", "dependsOn": ["pack"] },',
      '    { "id": "a", "action": "a", "capability": "x", "dependsOn": ["b"], "input": { "order.id": 7 } },',
      '    { "id": "b", "action": "b", "capability": "x", "dependsOn": ["a"] }',
      '  ]',
      '}',
    );
    const issues = issuesOf(text);
    expect(issues).toEqual([
      { stepId: 'charge', field: 'retry.jitter', message: expect.stringContaining('<=1'), line: 5, column: 18 },
      { stepId: 'ship', field: 'capability', message: expect.stringContaining('expected string'), line: 6, column: 5 },
      // A mapping key holding dots is found as one key.
      { stepId: 'a', field: 'input.order.id', message: expect.any(String), line: 7, column: 83 },
      { stepId: 'ship', field: 'dependsOn', message: 'unknown step "pack"', line: 6, column: 39 },
      { stepId: 'a', field: 'dependsOn', message: 'dependency cycle a -> b -> a', line: 7, column: 52 },
    ]);
    const error = (() => {
      try {
        parseDefinitionText(text, 'order.json');
      } catch (caught) {
        return caught;
      }
    })();
    expect(error).toBeInstanceOf(DefinitionError);
    expect((error as Error).message).toMatch(/^order\.json: invalid workflow definition "order": 5:18 step "charge" retry\.jitter: /);
  });

  it('refuses a $schema that is not a string', () => {
    expect(issuesOf('{"$schema": 1, "name": "w", "steps": []}')).toEqual([{ field: '$schema', message: expect.stringContaining('must be a string'), line: 1, column: 2 }]);
  });
});
