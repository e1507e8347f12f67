/**
 * docs/workflows.md, "Workflow fields", "Step fields" and "Validation": every default, every range,
 * and each check beyond the schema, as the tables state them. A validated definition is complete and
 * frozen, and validating it again returns it as it is.
 */
import { describe, expect, it } from 'vitest';
import { issuesOf, step } from './issues.js';
import { definitionHash, isJsonObject, validateDefinition, workflow } from '../../src/workflow/index.js';


const fieldsOf = (input: unknown) => issuesOf(input).map((issue) => `${issue.stepId ?? ''}:${issue.field}`);

describe('the defaults in the tables', () => {
  it('fills in every workflow and step field left out', () => {
    expect(validateDefinition({ name: 'w', steps: [step('a')] })).toStrictEqual({
      name: 'w',
      version: 1,
      description: '',
      initialData: {},
      input: { required: [] },
      failureStrategy: 'compensate',
      limits: {},
      steps: [{
        id: 'a',
        action: 'do-a',
        capability: 'x',
        input: {},
        output: {},
        dependsOn: [],
        timeoutMs: 30_000,
        retry: { maxAttempts: 3, initialDelayMs: 1000, multiplier: 2, maxDelayMs: 30_000, jitter: 0.2 },
        idempotencyKey: 'perOperation',
        optional: false,
      }],
    });
  });

  it('gives a compensation 5 attempts and when "attempted"; its capability and timeout stay the step\'s', () => {
    const [only] = validateDefinition({ name: 'w', steps: [step('a', { compensation: { action: 'undo' } })] }).steps;
    expect(only?.compensation).toStrictEqual({
      action: 'undo',
      input: {},
      retry: { maxAttempts: 5, initialDelayMs: 1000, multiplier: 2, maxDelayMs: 30_000, jitter: 0.2 },
      when: 'attempted',
    });
  });
});

describe('the ranges', () => {
  it('takes the values at the edges of each range', () => {
    expect(() => validateDefinition({
      name: 'w',
      version: 1,
      limits: { maxParallelSteps: 1 },
      steps: [
        step('a', { timeoutMs: 7 * 24 * 3600 * 1000, retry: { maxAttempts: 1000, initialDelayMs: 0, multiplier: 100, maxDelayMs: 0, jitter: 1 }, scheduleToStartTimeoutMs: 1 }),
        step('B_2-c', { timeoutMs: 1, retry: { maxAttempts: 1, multiplier: 1, jitter: 0 }, compensation: { action: 'u', timeoutMs: 1, when: 'succeeded' }, idempotencyKey: 'perAttempt', optional: true }),
      ],
    })).not.toThrow();
  });

  it('refuses each value just past them, naming the field', () => {
    expect(fieldsOf({ name: 'w', version: 0, steps: [step('a')] })).toEqual([':version']);
    expect(fieldsOf({ name: 'w', version: 1.5, steps: [step('a')] })).toEqual([':version']);
    expect(fieldsOf({ name: 'w', steps: [step('a', { timeoutMs: 7 * 24 * 3600 * 1000 + 1 })] })).toEqual(['a:timeoutMs']);
    expect(fieldsOf({ name: 'w', steps: [step('a', { timeoutMs: 0 })] })).toEqual(['a:timeoutMs']);
    expect(fieldsOf({ name: 'w', steps: [step('a', { retry: { maxAttempts: 1001 } })] })).toEqual(['a:retry.maxAttempts']);
    expect(fieldsOf({ name: 'w', steps: [step('a', { retry: { maxAttempts: 2.5 } })] })).toEqual(['a:retry.maxAttempts']);
    expect(fieldsOf({ name: 'w', steps: [step('a', { retry: { multiplier: 0.99 } })] })).toEqual(['a:retry.multiplier']);
    expect(fieldsOf({ name: 'w', steps: [step('a', { retry: { multiplier: 100.5 } })] })).toEqual(['a:retry.multiplier']);
    expect(fieldsOf({ name: 'w', steps: [step('a', { retry: { initialDelayMs: -1 } })] })).toEqual(['a:retry.initialDelayMs']);
    expect(fieldsOf({ name: 'w', steps: [step('a', { retry: { jitter: -0.1 } })] })).toEqual(['a:retry.jitter']);
    expect(fieldsOf({ name: 'w', steps: [step('a', { scheduleToStartTimeoutMs: 0 })] })).toEqual(['a:scheduleToStartTimeoutMs']);
    expect(fieldsOf({ name: 'w', steps: [step('a', { compensation: { action: 'u', timeoutMs: 0 } })] })).toEqual(['a:compensation.timeoutMs']);
    expect(fieldsOf({ name: 'w', steps: [step('a', { compensation: { action: '' } })] })).toEqual(['a:compensation.action']);
    expect(fieldsOf({ name: 'w', steps: [step('a', { compensation: { action: 'u', capability: '' } })] })).toEqual(['a:compensation.capability']);
    expect(fieldsOf({ name: 'w', steps: [step('a', { compensation: { action: 'u', when: 'always' } })] })).toEqual(['a:compensation.when']);
    expect(fieldsOf({ name: 'w', steps: [step('a', { idempotencyKey: 'perCall' })] })).toEqual(['a:idempotencyKey']);
    expect(fieldsOf({ name: 'w', failureStrategy: 'retry', steps: [step('a')] })).toEqual([':failureStrategy']);
    expect(fieldsOf({ name: 'w', steps: [step('a', { action: '' })] })).toEqual(['a:action']);
    expect(fieldsOf({ name: 'w', steps: [step('a', { capability: '' })] })).toEqual(['a:capability']);
  });

  it('takes step ids of letters, digits, "_" and "-" that start with a letter, and says so when not', () => {
    for (const id of ['1a', '_a', '-a', 'a.b', 'a b', '', 'é']) {
      expect(issuesOf({ name: 'w', steps: [step(id)] })).toEqual([{ stepId: id, field: 'id', message: 'must start with a letter and hold only letters, digits, "_" and "-"' }]);
    }
    expect(issuesOf({ name: 'w', steps: [step('a'), step('b', { dependsOn: ['no good'] })] })).toEqual([
      { stepId: 'b', field: 'dependsOn.0', message: 'must start with a letter and hold only letters, digits, "_" and "-"' },
      { stepId: 'b', field: 'dependsOn', message: 'unknown step "no good"' },
    ]);
  });

  it('refuses empty paths in mappings and in input.required', () => {
    expect(issuesOf({ name: 'w', input: { required: [''] }, steps: [step('a')] })).toEqual([{ field: 'input.required.0', message: 'must not be empty' }]);
    expect(issuesOf({ name: 'w', steps: [step('a', { output: { x: '' } })] })).toEqual([{ stepId: 'a', field: 'output.x', message: 'must not be empty' }]);
    expect(issuesOf({ name: 'w', steps: [step('a', { input: { x: '' } })] })).toEqual([expect.objectContaining({ stepId: 'a', field: 'input.x' })]);
  });
});

describe('the checks beyond the schema', () => {
  it('checks mappings only once the dependencies are sound (they are walked to find what a step can read)', () => {
    const reads = { input: { x: 'nowhere.x' } };
    expect(issuesOf({ name: 'w', steps: [step('a', { dependsOn: ['ghost'], ...reads })] })).toEqual([{ stepId: 'a', field: 'dependsOn', message: 'unknown step "ghost"' }]);
    expect(issuesOf({ name: 'w', steps: [step('a', { dependsOn: ['b'], ...reads }), step('b', { dependsOn: ['a'] })] })).toEqual([{ stepId: 'a', field: 'dependsOn', message: 'dependency cycle a -> b -> a' }]);
    expect(issuesOf({ name: 'w', steps: [step('a', { retry: { initialDelayMs: 2, maxDelayMs: 1 }, ...reads })] })).toEqual([{ stepId: 'a', field: 'retry.maxDelayMs', message: '1 is below initialDelayMs 2' }]);
    expect(fieldsOf({ name: 'w', steps: [step('a', reads)] })).toEqual(['a:input.x']);
  });

  it('reports a dependency listed twice', () => {
    expect(issuesOf({ name: 'w', steps: [step('a'), step('b', { dependsOn: ['a', 'a'] })] })).toEqual([{ stepId: 'b', field: 'dependsOn', message: 'lists a step twice' }]);
  });

  it('checks a compensation\'s retry range and its input mapping as the step\'s', () => {
    expect(issuesOf({ name: 'w', steps: [step('a', { compensation: { action: 'u', retry: { initialDelayMs: 50, maxDelayMs: 49 } } })] })).toEqual([
      { stepId: 'a', field: 'compensation.retry.maxDelayMs', message: '49 is below initialDelayMs 50' },
    ]);
    // Its own step's output mapping counts (the step ran), as do its step's dependencies'; nothing else.
    expect(issuesOf({
      name: 'w',
      steps: [
        step('a', { output: { order: '$' } }),
        step('b', { dependsOn: ['a'], output: { payment: '$' }, compensation: { action: 'u', input: { order: 'order.id', payment: 'payment.id', shipment: 'shipment.id' } } }),
        step('c', { output: { shipment: '$' } }),
      ],
    })).toEqual([
      { stepId: 'b', field: 'compensation.input.shipment', message: 'reads "shipment.id", which only step "c" writes, and "b" does not depend on it' },
    ]);
  });

  it('lets a mapping read a parent or a child of a path written upstream, and literals and input freely', () => {
    expect(() => validateDefinition({
      name: 'w',
      initialData: { config: { region: 'eu' } },
      steps: [
        step('a', { output: { 'order.lines': 'lines', quote: '$' } }),
        step('b', { dependsOn: ['a'], input: { order: 'order', first: 'order.lines.0', quote: 'quote.price.amount', region: 'config.region', all: 'input', user: 'input.user', fixed: { value: { any: ['json'] } } } }),
      ],
    })).not.toThrow();
    // A sibling of a written path is not written.
    expect(issuesOf({ name: 'w', steps: [step('a', { output: { 'order.lines': 'lines' } }), step('b', { dependsOn: ['a'], input: { x: 'order.total' } })] })).toEqual([
      { stepId: 'b', field: 'input.x', message: 'reads "order.total", which neither the initial data, the input nor any step\'s output mapping provides' },
    ]);
    // A path that only starts like a written one is not it ("order" is not "orders").
    expect(fieldsOf({ name: 'w', steps: [step('a', { output: { order: '$' } }), step('b', { dependsOn: ['a'], input: { x: 'orders' } })] })).toEqual(['b:input.x']);
    expect(fieldsOf({ name: 'w', steps: [step('a', { output: { orders: '$' } }), step('b', { dependsOn: ['a'], input: { x: 'order' } })] })).toEqual(['b:input.x']);
    expect(fieldsOf({ name: 'w', steps: [step('a', { input: { x: 'inputs.y' } })] })).toEqual(['a:input.x']);
  });

  it('finds a writer two levels up, through either branch of a diamond, and not a dependent\'s', () => {
    const diamond = (writer: string) => ({
      name: 'w',
      steps: [
        step('root', writer === 'root' ? { output: { w: '$' } } : {}),
        step('left', { dependsOn: ['root'], ...(writer === 'left' ? { output: { w: '$' } } : {}) }),
        step('right', { dependsOn: ['root'], ...(writer === 'right' ? { output: { w: '$' } } : {}) }),
        step('join', { dependsOn: ['left', 'right'], input: { x: 'w.x' } }),
        step('after', { dependsOn: ['join'], input: { y: 'w.y' }, ...(writer === 'after' ? { output: { w: '$' } } : {}) }),
      ],
    });
    for (const writer of ['root', 'left', 'right']) expect(() => validateDefinition(diamond(writer))).not.toThrow();
    // A step's own output mapping is no source for its input, and is not named as one.
    expect(issuesOf(diamond('after'))).toEqual([
      { stepId: 'join', field: 'input.x', message: 'reads "w.x", which only step "after" writes, and "join" does not depend on it' },
      { stepId: 'after', field: 'input.y', message: 'reads "w.y", which neither the initial data, the input nor any step\'s output mapping provides' },
    ]);
  });

  it('names every step that writes a path read without depending on it ("reported with that step\'s name")', () => {
    expect(issuesOf({ name: 'w', steps: [step('a', { output: { order: '$' } }), step('b', { output: { order: '$' } }), step('c', { input: { x: 'order.id' } })] })).toEqual([
      { stepId: 'c', field: 'input.x', message: 'reads "order.id", which only step "a", "b" writes, and "c" does not depend on it' },
    ]);
  });

  it('puts every issue in the error message, one after the other', () => {
    expect(() => validateDefinition({ name: 'w', steps: [step('a', { dependsOn: ['x'] }), step('b', { dependsOn: ['y'] })] })).toThrow(
      /^Invalid workflow definition "w": step "a" dependsOn: unknown step "x"; step "b" dependsOn: unknown step "y"$/,
    );
  });

  it('names a step without a readable id by its place, and the definition itself for a root problem', () => {
    expect(issuesOf({ name: 'w', steps: [step('a'), { action: 'x', capability: 'x' }] })).toEqual([{ stepId: '#1', field: 'id', message: expect.any(String) }]);
    expect(issuesOf({ name: 'w', steps: [step('a'), 7] })).toEqual([{ stepId: '#1', field: '(step)', message: expect.any(String) }]);
    expect(issuesOf({ name: 'w', steps: [step('a'), null] })).toEqual([{ stepId: '#1', field: '(step)', message: expect.any(String) }]);
    expect(issuesOf(null)).toEqual([{ field: '(definition)', message: expect.any(String) }]);
    expect(issuesOf('w')).toEqual([{ field: '(definition)', message: expect.any(String) }]);
  });

  it('still reports the dependency problems of steps it could read when others fail the schema', () => {
    // Read: a, c (its string dependencies). Not: 7, an id that is a number, dependsOn that is no list.
    expect(issuesOf({ name: 'w', steps: [step('a', { timeoutMs: -1 }), 7, { id: 5, action: 'x', capability: 'x' }, { ...step('b'), dependsOn: 'a' }, step('c', { dependsOn: ['a', 9, 'ghost'] })] })).toEqual([
      expect.objectContaining({ stepId: 'a', field: 'timeoutMs' }),
      expect.objectContaining({ stepId: '#1', field: '(step)' }),
      expect.objectContaining({ stepId: '#2', field: 'id' }),
      expect.objectContaining({ stepId: 'b', field: 'dependsOn' }),
      expect.objectContaining({ stepId: 'c', field: 'dependsOn.1' }),
      { stepId: 'c', field: 'dependsOn', message: 'unknown step "ghost"' },
    ]);
  });

  it('says "Invalid workflow definition" without a name when it has none', () => {
    expect(() => validateDefinition({ steps: [step('a')] })).toThrow(/^Invalid workflow definition: name: /);
    expect(() => validateDefinition({ name: 5, steps: [step('a')] })).toThrow(/^Invalid workflow definition: name: /);
    try {
      validateDefinition({ name: 'named', steps: [] });
    } catch (error) {
      expect(error).toMatchObject({ name: 'DefinitionError', workflowName: 'named', message: 'Invalid workflow definition "named": steps: a workflow needs at least one step' });
    }
    expect.assertions(3);
  });
});

describe('a validated definition', () => {
  it('is frozen to the bottom, and validating it again returns it as it is', () => {
    const definition = validateDefinition({ name: 'w', initialData: { deep: { list: [{ x: 1 }] } }, steps: [step('a', { input: { v: { value: { n: [1] } } } })] });
    expect(Object.isFrozen(definition)).toBe(true);
    expect(Object.isFrozen(definition.steps[0]?.retry)).toBe(true);
    expect(Object.isFrozen((definition.initialData.deep as { list: object[] }).list[0])).toBe(true);
    expect(Object.isFrozen(definition.steps[0]?.input.v)).toBe(true);
    expect(validateDefinition(definition)).toBe(definition);
    // An equal definition that did not come from validateDefinition is validated anew.
    const copy = structuredClone(definition);
    expect(validateDefinition(copy)).not.toBe(copy);
    expect(validateDefinition(copy)).toEqual(definition);
  });

  it('hashes once; a definition that is not frozen is hashed as it is now', () => {
    const frozen = validateDefinition({ name: 'w', steps: [step('a')] });
    const loose = structuredClone(frozen) as { version: number };
    const before = definitionHash(loose as never);
    expect(before).toBe(definitionHash(frozen));
    loose.version = 2;
    expect(definitionHash(loose as never)).not.toBe(before);
  });
});

describe('the builder', () => {
  it('sets every workflow field the JSON form has', () => {
    const built = workflow('w')
      .description('what it does')
      .initialData({ region: 'eu' })
      .limits({ maxParallelSteps: 2 })
      .requireInput('id', 'user.name')
      .step(step('a', { input: { region: 'region' } }))
      .build();
    expect(built).toEqual(validateDefinition({ name: 'w', description: 'what it does', initialData: { region: 'eu' }, limits: { maxParallelSteps: 2 }, input: { required: ['id', 'user.name'] }, steps: [step('a', { input: { region: 'region' } })] }));
  });
});

describe('isJsonObject', () => {
  it('is true for a plain object only', () => {
    expect(isJsonObject({})).toBe(true);
    expect([[], null, 'x', 1, undefined].map(isJsonObject)).toEqual([false, false, false, false, false]);
  });
});
