/**
 * src/workflow/hash.ts: the canonical JSON a definition is hashed over ("keys sorted, `undefined`
 * left out", docs/workflows.md), on both of its paths: the fast one, and the one written by hand
 * for objects that cannot hold their keys in sorted order (digit-led keys, `__proto__`), wherever
 * such an object sits.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { canonicalJson, definitionHash, sha256Hex, validateDefinition, type WorkflowDefinition } from '../../src/workflow/index.js';

describe('canonicalJson', () => {
  it('writes scalars, undefined and empty containers as JSON does', () => {
    expect([null, true, 0, -1.5, 'x', undefined].map(canonicalJson)).toEqual(['null', 'true', '0', '-1.5', '"x"', 'null']);
    expect(canonicalJson([])).toBe('[]');
    expect(canonicalJson({})).toBe('{}');
    expect(canonicalJson([undefined, { a: undefined }])).toBe('[null,{}]');
  });

  it('sorts keys by code unit (capitals before lower case), at every level', () => {
    expect(canonicalJson({ b: 1, B: 2, a: { z: [{ y: 1, x: 2 }], _: 0 } })).toBe('{"B":2,"a":{"_":0,"z":[{"x":2,"y":1}]},"b":1}');
  });

  it('takes the path by hand for an unorderable object anywhere, and leaves out undefined there too', () => {
    // The digit-led key sits in an array in an object: the whole value is written by hand.
    expect(canonicalJson({ z: [1, { '2': 'two', '10': 'ten', b: undefined }], a: [undefined] })).toBe('{"a":[null],"z":[1,{"10":"ten","2":"two"}]}');
    expect(canonicalJson([{ '0': 0 }, 'after'])).toBe('[{"0":0},"after"]');
    expect(canonicalJson({ x: { y: JSON.parse('{"__proto__":1,"a":2}') as unknown } })).toBe('{"x":{"y":{"__proto__":1,"a":2}}}');
    expect(canonicalJson({ '9': { b: 1, a: undefined, A: 2 } })).toBe('{"9":{"A":2,"b":1}}');
  });

  it('puts a digit-led key after the keys that sort before digits, and orders digit-led keys as text', () => {
    // An object lists integer-like keys first, in numeric order: '-' and ' ' sort before '0', and '10' before '9'.
    expect(canonicalJson({ '0': 'zero', '-': 'dash', ' ': 'space' })).toBe('{" ":"space","-":"dash","0":"zero"}');
    expect(canonicalJson({ '9': 'nine', '10': 'ten', '!': 'bang' })).toBe('{"!":"bang","10":"ten","9":"nine"}');
    expect(canonicalJson({ '9': 'nine', '-': 'dash' })).toBe('{"-":"dash","9":"nine"}');
    expect(canonicalJson([{ '5': [{ b: 1, a: 2 }], '$': null }])).toBe('[{"$":null,"5":[{"a":2,"b":1}]}]');
  });
});

describe('definitionHash', () => {
  it('is sha256: of the canonical JSON, the same for the same definition', () => {
    const definition = validateDefinition({ name: 'w', steps: [{ id: 'a', action: 'a', capability: 'x' }] });
    expect(definitionHash(definition)).toBe(`sha256:${sha256Hex(canonicalJson(definition))}`);
    expect(definitionHash(definition)).toBe(definitionHash(definition));
  });

  it('reads a frozen definition once however often it is hashed, and an unfrozen one again, with what it holds then', () => {
    // decide hashes the definition of every start; a validated (frozen) one cannot change, so its
    // hash is kept. A getter counts how often the definition's steps are read.
    let reads = 0;
    const steps = [{ id: 'a', action: 'a', capability: 'x' }];
    const frozen = Object.freeze({ name: 'w', get steps() { reads++; return steps; } }) as unknown as WorkflowDefinition;
    const first = definitionHash(frozen);
    expect(definitionHash(frozen)).toBe(first);
    expect(reads).toBe(1);

    const open = { name: 'w', steps: [...steps] };
    const hashOfOpen = (): string => definitionHash(open as unknown as WorkflowDefinition);
    const before = hashOfOpen();
    expect(before).toBe(first);
    open.steps.push({ id: 'b', action: 'b', capability: 'x' });
    expect(hashOfOpen()).toBe(`sha256:${createHash('sha256').update(canonicalJson(open)).digest('hex')}`);
    expect(hashOfOpen()).not.toBe(before);
  });
});

describe('sha256Hex at every length', () => {
  it('hashes as node:crypto does for every length up to three blocks: the padding\'s 0x80 and the length field never overwrite the text', () => {
    // Lengths 53 to 55 (mod 64) leave 1 to 3 bytes between the text's end and the length field.
    for (let length = 0; length <= 192; length++) {
      const text = 'abcdefghijklmnopqrstuvwxyz'.repeat(8).slice(0, length);
      expect(sha256Hex(text), `length ${length}`).toBe(createHash('sha256').update(text, 'utf8').digest('hex'));
    }
  });
});

describe('sha256Hex past 2 MiB', () => {
  it('hashes a 10,000-step definition (~2.6 MB of canonical JSON, docs/workflows.md) as node:crypto does: the length field\'s every byte counts', () => {
    // From 2 MiB on, the message length in bits (the last 8 bytes of the padding) reaches the
    // fourth byte from the end, which shorter texts leave zero.
    const definition = validateDefinition({ name: 'wide', steps: Array.from({ length: 10_000 }, (_, i) => ({ id: `step-${i}`, action: `do-${i}`, capability: 'x', dependsOn: i > 0 ? [`step-${i - 1}`] : [] })) });
    const text = canonicalJson(definition);
    expect(Buffer.byteLength(text)).toBeGreaterThan(2 ** 21);
    expect(definitionHash(definition)).toBe(`sha256:${createHash('sha256').update(text, 'utf8').digest('hex')}`);
  });
});
