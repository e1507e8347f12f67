/** `cadenza validate <file>` as a user runs it: a child process, its output and exit code. */
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const bin = fileURLToPath(new URL('../../src/cli/bin.js', import.meta.url));
let dir = '';

function cadenza(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [bin, ...args], { cwd: dir, env: { ...process.env, CADENZA_STORE: '' } }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
    });
  });
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'cadenza-validate-'));
  writeFileSync(join(dir, 'good.json'), JSON.stringify({
    $schema: 'https://example.invalid/workflow-definition.schema.json',
    name: 'order',
    version: 3,
    steps: [{ id: 'charge', action: 'charge', capability: 'payments' }, { id: 'ship', action: 'ship', capability: 'shipping', dependsOn: ['charge'] }],
  }, null, 2));
  writeFileSync(join(dir, 'bad.json'), [
    '{',
    '  "name": "order",',
    '  "steps": [',
    '    { "id": "charge", "action": "charge", "capability": "payments", "timeoutMs": -5 },',
    '    { "id": "ship", "action": "ship", "capability": "shipping", "dependsOn": ["pack"] }',
    '  ]',
    '}',
  ].join('\n'));
  writeFileSync(join(dir, 'broken.json'), '{ "name": "order", "steps": [ }');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('cadenza validate', () => {
  it('accepts a valid file, exit 0, with a summary in --json', async () => {
    const result = await cadenza('validate', 'good.json', '--json');
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(JSON.parse(result.stdout)).toMatchObject({ file: 'good.json', valid: true, name: 'order', version: 3, steps: 2, definitionHash: expect.stringMatching(/^sha256:/) });
    expect((await cadenza('validate', 'good.json')).stdout).toBe('good.json: valid, workflow "order" version 3, 2 steps\n');
  });

  it('names every problem with its line, step, field and why, and exits 2', async () => {
    const result = await cadenza('validate', 'bad.json');
    expect(result.code).toBe(2);
    expect(result.stdout.split('\n').filter(Boolean)).toEqual([
      expect.stringMatching(/^bad\.json:4:\d+: step "charge" timeoutMs: /),
      expect.stringMatching(/^bad\.json:5:\d+: step "ship" dependsOn: unknown step "pack"$/),
    ]);
    expect(result.stderr).toBe('cadenza: bad.json is not a valid workflow definition (2 problems)\n');

    const json = await cadenza('validate', 'bad.json', '--json');
    expect(json.code).toBe(2);
    expect(JSON.parse(json.stdout)).toMatchObject({ valid: false, issues: [{ stepId: 'charge', field: 'timeoutMs', line: 4 }, { stepId: 'ship', field: 'dependsOn', line: 5 }] });
  });

  it('reports bad JSON at its line and column, and a missing file, with exit 2 and no stack trace', async () => {
    const broken = await cadenza('validate', 'broken.json');
    expect(broken.code).toBe(2);
    expect(broken.stdout).toBe('broken.json:1:31: (json): not valid JSON: value expected\n');
    const missing = await cadenza('validate', 'nope.json');
    expect(missing.code).toBe(2);
    expect(missing.stdout).toBe('nope.json: (file): cannot read it: no such file\n');
    expect(missing.stderr).not.toContain('    at ');
    // Nothing written: no store was opened.
    expect(readdirSync(dir).sort()).toEqual(['bad.json', 'broken.json', 'good.json']);
  });
});
