/**
 * docs/workflows.md, definitions as JSON files: "Bad JSON is reported at its line and column; a
 * definition problem at the line and column of the field it names." The places not covered by
 * definition-text.test.ts: workflow-level fields, a step without an id (named by its place, `#10`),
 * the whole definition, syntax errors named in words, and the message without a workflow name.
 */
import { describe, expect, it } from 'vitest';
import { DefinitionFileError, describeLocatedIssue, parseDefinitionText, type LocatedIssue } from '../../src/workflow/definition-text.js';

function failureOf(text: string, source?: string): DefinitionFileError {
  try {
    parseDefinitionText(text, source);
  } catch (error) {
    if (error instanceof DefinitionFileError) return error;
    throw error;
  }
  throw new Error('expected a DefinitionFileError');
}

const issuesOf = (text: string): readonly LocatedIssue[] => failureOf(text).issues;
const lines = (...rows: string[]) => rows.join('\n');
const stepJson = (id: string) => `{ "id": "${id}", "action": "a", "capability": "x" }`;

describe('where a definition problem is placed', () => {
  it('at the key of a nested workflow-level field', () => {
    const text = lines(
      '{',
      '  "name": "w",',
      '  "limits": { "maxParallelSteps": 0 },',
      `  "steps": [ ${stepJson('a')} ]`,
      '}',
    );
    expect(issuesOf(text)).toEqual([{ field: 'limits.maxParallelSteps', message: expect.any(String), line: 3, column: 15 }]);
  });

  it('at the object of a step without an id, found by its place, past the ninth too', () => {
    const steps = Array.from({ length: 10 }, (_, i) => `    ${stepJson(`s${i}`)},`);
    const text = lines('{', '  "name": "w",', '  "steps": [', ...steps, '      { "action": "a", "capability": "x" }', '  ]', '}');
    // Line 14 holds the eleventh step (#10), its object opening at column 7.
    expect(issuesOf(text)).toEqual([{ stepId: '#10', field: 'id', message: expect.any(String), line: 14, column: 7 }]);
  });

  it('at the object of the first step, when it is the one without an id', () => {
    expect(issuesOf(lines('{ "name": "w", "steps": [', '   { "action": "a", "capability": "x" }', '] }'))).toEqual([{ stepId: '#0', field: 'id', message: expect.any(String), line: 2, column: 4 }]);
  });

  it('at the start of the definition for a problem of the whole', () => {
    expect(issuesOf(lines('  {', `  "name": "w", "colour": "red", "steps": [ ${stepJson('a')} ]`, '}'))).toEqual([
      { field: '(definition)', message: expect.stringContaining('colour'), line: 1, column: 3 },
    ]);
  });

  it('at the $schema key when it is not a string', () => {
    expect(issuesOf(lines('{', '  "name": "w",', '    "$schema": true,', `  "steps": [ ${stepJson('a')} ]`, '}'))).toEqual([
      { field: '$schema', message: 'must be a string (the URL or path of the JSON Schema)', line: 3, column: 5 },
    ]);
  });
});

describe('syntax errors', () => {
  it('names what was expected in words, where it was expected', () => {
    expect(issuesOf('{"name" "w"}')).toEqual([{ field: '(json)', message: 'not valid JSON: colon expected', line: 1, column: 9 }]);
    expect(issuesOf(lines('{', '  name: "w"', '}'))).toEqual([{ field: '(json)', message: 'not valid JSON: invalid symbol', line: 2, column: 3 }]);
    expect(issuesOf(lines('{', '  "name": "w",', '  1: 2', '}'))).toEqual([{ field: '(json)', message: 'not valid JSON: property name expected', line: 3, column: 3 }]);
    expect(issuesOf('{"name": "w"} // note')).toEqual([{ field: '(json)', message: 'not valid JSON: invalid comment token', line: 1, column: 15 }]);
    expect(issuesOf('"w"')).toEqual([{ field: '(definition)', message: 'must be a JSON object, not string', line: 1, column: 1 }]);
  });
});

describe('the error', () => {
  it('names the source, and the workflow only when it has a name', () => {
    const unnamed = failureOf(`{ "steps": [ ${stepJson('a')} ] }`, 'flow.json');
    expect(unnamed.name).toBe('DefinitionFileError');
    expect(unnamed.source).toBe('flow.json');
    expect(unnamed.workflowName).toBeUndefined();
    expect(unnamed.message).toBe('flow.json: invalid workflow definition: 1:1 name: Invalid input: expected string, received undefined');
    expect(failureOf('[]').message).toBe('(definition): invalid workflow definition: 1:1 (definition): must be a JSON object, not array');
  });

  it('names every problem of the file, each at its place, one after the other', () => {
    const text = lines('{ "name": "w", "steps": [', `  ${stepJson('a').replace(' }', ', "dependsOn": ["x"] }')},`, `  ${stepJson('b').replace(' }', ', "dependsOn": ["y"] }')}`, '] }');
    expect(failureOf(text, 'flow.json').message).toBe('flow.json: invalid workflow definition "w": 2:50 step "a" dependsOn: unknown step "x"; 3:50 step "b" dependsOn: unknown step "y"');
  });

  it('describes an issue with its place when it has one', () => {
    expect(describeLocatedIssue({ stepId: 'a', field: 'id', message: 'bad', line: 3, column: 7 })).toBe('3:7 step "a" id: bad');
    expect(describeLocatedIssue({ field: 'name', message: 'bad', line: 2 })).toBe('2:1 name: bad');
    expect(describeLocatedIssue({ field: 'name', message: 'bad' })).toBe('name: bad');
  });
});
