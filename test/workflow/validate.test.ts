import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { issuesOf, step } from './issues.js';
import { MAX_JSON_DEPTH } from '../../src/workflow/json.js';
import { DefinitionError, MAX_STEPS_PER_DEFINITION, canonicalJson, definitionHash, sha256Hex, validateDefinition, workflow, type WorkflowDefinition } from '../../src/workflow/index.js';


describe('validateDefinition', () => {
  it('fills in defaults', () => {
    const def = validateDefinition({ name: 'w', steps: [step('a')] });
    expect(def).toMatchObject({ version: 1, failureStrategy: 'compensate', input: { required: [] }, steps: [{ dependsOn: [], timeoutMs: 30_000, optional: false, retry: { maxAttempts: 3, jitter: 0.2 } }] });
  });

  it('names the step and field of schema errors', () => {
    expect(issuesOf({ name: 'w', steps: [step('a', { retry: { jitter: 1.5 } }), step('b', { timeoutMs: -1 })] })).toEqual([
      expect.objectContaining({ stepId: 'a', field: 'retry.jitter' }),
      expect.objectContaining({ stepId: 'b', field: 'timeoutMs' }),
    ]);
    expect(issuesOf({ name: 'w', steps: [step('a', { retry: { maxAttempts: 0 } })] })).toEqual([expect.objectContaining({ stepId: 'a', field: 'retry.maxAttempts' })]);
    expect(issuesOf({ name: 'w', steps: [{ id: 'a', capability: 'x' }] })).toEqual([expect.objectContaining({ stepId: 'a', field: 'action' })]);
    expect(issuesOf({ name: '', steps: [] }).map((i) => i.field)).toEqual(['name', 'steps']);
    expect(issuesOf({ name: 'w', steps: [step('a', { colour: 'red' })] })).toEqual([expect.objectContaining({ stepId: 'a', field: '(step)', message: expect.stringContaining('colour') })]);
  });

  it('reports duplicate ids and unknown dependencies', () => {
    expect(issuesOf({ name: 'w', steps: [step('a'), step('a'), step('b', { dependsOn: ['ghost'] })] })).toEqual([
      { stepId: 'a', field: 'id', message: 'duplicate step id "a"' },
      { stepId: 'b', field: 'dependsOn', message: 'unknown step "ghost"' },
    ]);
  });

  it('reports dependency problems beside schema problems, so a file is fixed in one pass', () => {
    expect(issuesOf({ name: 'w', steps: [step('a', { timeoutMs: 0 }), step('b', { dependsOn: ['ghost', 'a'] })] })).toEqual([
      expect.objectContaining({ stepId: 'a', field: 'timeoutMs' }),
      { stepId: 'b', field: 'dependsOn', message: 'unknown step "ghost"' },
    ]);
  });

  it('reports a cycle as a path', () => {
    const issues = issuesOf({ name: 'w', steps: [step('a', { dependsOn: ['c'] }), step('b', { dependsOn: ['a'] }), step('c', { dependsOn: ['b'] })] });
    expect(issues).toEqual([{ stepId: 'a', field: 'dependsOn', message: 'dependency cycle a -> c -> b -> a' }]);
    expect(issuesOf({ name: 'w', steps: [step('s', { dependsOn: ['s'] })] })[0]?.message).toBe('dependency cycle s -> s');
  });

  it('reports nonsense numbers', () => {
    expect(issuesOf({ name: 'w', steps: [step('a', { retry: { initialDelayMs: 5_000, maxDelayMs: 10 } })] })).toEqual([
      { stepId: 'a', field: 'retry.maxDelayMs', message: '10 is below initialDelayMs 5000' },
    ]);
    expect(issuesOf({ name: 'w', limits: { maxParallelSteps: 0 }, steps: [step('a')] })[0]?.field).toBe('limits.maxParallelSteps');
  });

  it('reports mappings that read what nothing upstream produces', () => {
    const issues = issuesOf({
      name: 'w',
      initialData: { config: { region: 'eu' } },
      steps: [
        step('a', { output: { quote: '$' } }),
        step('b', { input: { price: 'quote.price', region: 'config.region', who: 'input.user' } }),
        step('c', { dependsOn: ['a'], input: { price: 'quote.price', other: 'elsewhere.x', mine: '$output.id' } }),
      ],
    });
    expect(issues).toEqual([
      { stepId: 'b', field: 'input.price', message: 'reads "quote.price", which only step "a" writes, and "b" does not depend on it' },
      { stepId: 'c', field: 'input.other', message: 'reads "elsewhere.x", which neither the initial data, the input nor any step\'s output mapping provides' },
      { stepId: 'c', field: 'input.mine', message: '"$output.id": only a compensation can read its step\'s $output or $input' },
    ]);
  });

  it('finds what a step reads among its transitive dependencies, down a long chain and across branches', () => {
    // s0 writes the order; every later step of the chain reads it; "side" writes "late", which
    // the chain's last step reads without depending on it; "join" reads both through a branch.
    const chain = Array.from({ length: 3_000 }, (_, i) => step(`s${i}`, i === 0 ? { output: { order: '$' } } : { dependsOn: [`s${i - 1}`], input: i === 2_999 ? { id: 'order.id', late: 'late' } : { id: 'order.id' } }));
    const steps = [...chain, step('side', { output: { late: '$' } }), step('join', { dependsOn: ['s2999', 'side'], input: { id: 'order.id', late: 'late.x' } })];
    expect(issuesOf({ name: 'w', steps })).toEqual([
      { stepId: 's2999', field: 'input.late', message: 'reads "late", which only step "side" writes, and "s2999" does not depend on it' },
    ]);
  });

  it(`refuses more than ${MAX_STEPS_PER_DEFINITION} steps, naming the limit and the count, and takes a chain that long in any order`, () => {
    const chain = (length: number, reversed = false) => Array.from({ length }, (_, i) => step(`s${i}`, { dependsOn: reversed ? (i < length - 1 ? [`s${i + 1}`] : []) : i > 0 ? [`s${i - 1}`] : [] }));
    expect(() => validateDefinition({ name: 'huge', steps: chain(MAX_STEPS_PER_DEFINITION + 1) })).toThrow(
      new DefinitionError([{ field: 'steps', message: `${MAX_STEPS_PER_DEFINITION + 1} steps, more than the ${MAX_STEPS_PER_DEFINITION} a definition may have` }], 'huge'),
    );
    expect(issuesOf({ name: 'huge', steps: chain(MAX_STEPS_PER_DEFINITION + 1) })[0]?.message).toBe('10001 steps, more than the 10000 a definition may have');
    // At the limit, a chain listed last step first (walked depth first) validates, and a cycle
    // closed at its far end is reported as one.
    expect(validateDefinition({ name: 'long', steps: chain(MAX_STEPS_PER_DEFINITION, true) }).steps).toHaveLength(MAX_STEPS_PER_DEFINITION);
    const cyclic = chain(MAX_STEPS_PER_DEFINITION, true);
    cyclic[cyclic.length - 1] = step(`s${MAX_STEPS_PER_DEFINITION - 1}`, { dependsOn: ['s0'] });
    expect(issuesOf({ name: 'long', steps: cyclic })).toEqual([expect.objectContaining({ stepId: 's0', field: 'dependsOn', message: expect.stringMatching(/^dependency cycle s0 -> s1 -> .* -> s9999 -> s0$/) })]);
  });

  it('lets a compensation read its own output and what its step wrote', () => {
    expect(() => validateDefinition({ name: 'w', steps: [step('a', { output: { order: '$' }, compensation: { action: 'undo', input: { id: '$output.id', order: 'order.id', was: '$input.x' } } })] })).not.toThrow();
  });

  it('refuses JSON nested deeper than the documented limit, naming the field, at any depth past it', () => {
    const nested = (levels: number): unknown => {
      let value: unknown = 1;
      for (let i = 0; i < levels; i++) value = { a: value };
      return value;
    };
    const limit = `nested more than ${MAX_JSON_DEPTH} levels deep (the limit for JSON in a workflow)`;
    for (const levels of [MAX_JSON_DEPTH + 1, 100_000]) {
      expect(issuesOf({ name: 'w', initialData: { nest: nested(levels) }, steps: [step('a')] })).toEqual([{ field: 'initialData.nest', message: limit }]);
      expect(issuesOf({ name: 'w', steps: [step('a', { input: { x: { value: nested(levels) } } })] })).toEqual([{ stepId: 'a', field: 'input.x.value', message: limit }]);
    }
    expect(() => validateDefinition({ name: 'w', initialData: { nest: nested(100_000) }, steps: [step('a')] })).toThrow(
      `Invalid workflow definition "w": initialData.nest: ${limit}`,
    );
    // A cycle is refused the same way, not chased until the stack overflows.
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(issuesOf({ name: 'w', initialData: { cyclic }, steps: [step('a')] })).toEqual([{ field: 'initialData.cyclic', message: limit }]);
    // At the limit it is accepted (and hashed).
    expect(definitionHash(validateDefinition({ name: 'w', initialData: { nest: nested(MAX_JSON_DEPTH) }, steps: [step('a')] }))).toMatch(/^sha256:/);
  });

  it('puts every issue in the error message', () => {
    expect(() => validateDefinition({ name: 'w', steps: [step('a', { dependsOn: ['zz'] })] })).toThrow('Invalid workflow definition "w": step "a" dependsOn: unknown step "zz"');
  });
});

describe('definitionHash', () => {
  it('is stable across key order and defaults written out or not', () => {
    const a = validateDefinition({ name: 'w', steps: [step('a')] });
    const b = validateDefinition({ steps: [{ capability: 'x', action: 'do-a', id: 'a', optional: false }], failureStrategy: 'compensate', name: 'w' });
    expect(definitionHash(a)).toBe(definitionHash(b));
    expect(definitionHash(a)).not.toBe(definitionHash(validateDefinition({ name: 'w', steps: [step('a', { timeoutMs: 1 })] })));
  });

  it('is SHA-256 over canonical JSON', () => {
    expect(sha256Hex('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(sha256Hex('')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(canonicalJson({ b: 1, a: [{ d: undefined, c: 'x' }] })).toBe('{"a":[{"c":"x"}],"b":1}');
  });

  it('hashes as node:crypto does, across block boundaries and multi-byte text', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 200 }), (text) => {
      expect(sha256Hex(text)).toBe(createHash('sha256').update(text, 'utf8').digest('hex'));
    }), { numRuns: 300 });
    for (const length of [55, 56, 63, 64, 65, 119, 120, 128, 100_000]) expect(sha256Hex('é'.repeat(length))).toBe(createHash('sha256').update('é'.repeat(length)).digest('hex'));
  });

  it('writes keys in code-unit order at every level, digit-led and __proto__ keys included', () => {
    const byHand = (value: unknown): string => {
      if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
      if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : byHand(v))).join(',')}]`;
      const keys = Object.keys(value).filter((k) => (value as Record<string, unknown>)[k] !== undefined).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
      return `{${keys.map((k) => `${JSON.stringify(k)}:${byHand((value as Record<string, unknown>)[k])}`).join(',')}}`;
    };
    fc.assert(fc.property(fc.jsonValue(), (value) => {
      expect(canonicalJson(value)).toBe(byHand(value));
    }), { numRuns: 300 });
    expect(canonicalJson({ b: { 10: 1, 9: 2, a: 3 }, a: null })).toBe('{"a":null,"b":{"10":1,"9":2,"a":3}}');
    expect(canonicalJson(JSON.parse('{"z":1,"__proto__":{"x":1}}'))).toBe('{"__proto__":{"x":1},"z":1}');
  });

  it('gives a stored definition the hash it was recorded with', () => {
    const history = JSON.parse(readFileSync(new URL('../saga/histories/trading-reversed.v1.json', import.meta.url), 'utf8')) as { data: { definition: unknown; definitionHash: string } }[];
    const started = history[0]?.data;
    // The definition as it was stored (validated by the code of that day, defaults filled in).
    expect(definitionHash(started?.definition as WorkflowDefinition)).toBe(started?.definitionHash);
  });
});

describe('the builder', () => {
  it('builds the same definition as the JSON form', () => {
    const built = workflow('w').version(2).onFailure('pause').requireInput('id').step(step('a')).step(step('b', { dependsOn: ['a'] })).build();
    expect(built).toEqual(validateDefinition({ name: 'w', version: 2, failureStrategy: 'pause', input: { required: ['id'] }, steps: [step('a'), step('b', { dependsOn: ['a'] })] }));
  });

  it('validates on build', () => {
    expect(() => workflow('w').step(step('a', { dependsOn: ['b'] })).build()).toThrow(DefinitionError);
  });
});
