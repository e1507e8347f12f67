import { describe, expect, it } from 'vitest';
import { MappingError, applyOutput, getPath, resolveInput, setPath, type JsonObject, type MappingSource } from '../../src/workflow/index.js';
import { hasPath, parseSourcePath } from '../../src/workflow/mapping.js';

const data = { portfolio: { positions: [{ symbol: 'ACME', qty: 3 }, { symbol: 'XYZ', qty: 0 }] }, flag: false, nothing: null };

describe('getPath', () => {
  it('reads nested objects and array indices, including falsy values', () => {
    expect(getPath(data, 'portfolio.positions.0.symbol')).toBe('ACME');
    expect(getPath(data, 'portfolio.positions.1.qty')).toBe(0);
    expect(getPath(data, 'flag')).toBe(false);
    expect(getPath(data, 'nothing')).toBeNull();
    expect(getPath(data, '$')).toBe(data);
  });

  it('names the missing path and where it stopped', () => {
    const read = () => getPath(data, 'portfolio.positions.5.symbol');
    expect(read).toThrow(MappingError);
    expect(read).toThrow('Missing path "portfolio.positions.5.symbol" (nothing at "portfolio.positions.5")');
    expect(() => getPath(data, 'portfolio.positions.first')).toThrow(/nothing at "portfolio.positions.first"/);
    expect(() => getPath(data, 'flag.x')).toThrow(MappingError);
  });
});

describe('setPath', () => {
  it('writes without touching the original and shares what it did not change', () => {
    const next = setPath(data, 'portfolio.positions.1.qty', 7) as typeof data;
    expect(next.portfolio.positions[1]?.qty).toBe(7);
    expect(data.portfolio.positions[1]?.qty).toBe(0);
    expect(next.portfolio.positions[0]).toBe(data.portfolio.positions[0]);
  });

  it('creates objects and arrays along a new path', () => {
    expect(setPath({}, 'a.b.c', 1)).toEqual({ a: { b: { c: 1 } } });
    expect(setPath({}, 'list.1', 'x')).toEqual({ list: [null, 'x'] });
  });

  it('refuses to write an object key into an array or through a scalar', () => {
    expect(() => setPath({ list: [] }, 'list.key', 1)).toThrow(/"key" is not an array index/);
    expect(() => setPath({ n: 1 }, 'n.key', 1)).toThrow(/"n" is not an object/);
  });
});

describe('resolveInput and applyOutput', () => {
  it('builds an input from paths, literals, and a compensation scope', () => {
    const input = resolveInput(
      { symbol: 'portfolio.positions.0.symbol', 'order.id': '$output.orderId', side: '$input.side', limit: { value: { max: 5 } } },
      { data, output: { orderId: 'o-1' }, input: { side: 'buy' } },
    );
    expect(input).toEqual({ symbol: 'ACME', order: { id: 'o-1' }, side: 'buy', limit: { max: 5 } });
  });

  it('names the source path that is missing', () => {
    expect(() => resolveInput({ id: '$output.orderId' }, { data, output: {} })).toThrow('Missing path "$output.orderId" (nothing at "$output.orderId")');
    expect(() => resolveInput({ id: '$output.orderId' }, { data })).toThrow(/"\$output.orderId"/);
  });

  it('writes mapped output paths into the data, or the whole output', () => {
    expect(applyOutput({ a: 1 }, { 'quote.price': 'price', raw: '$' }, { price: 10 })).toEqual({ a: 1, quote: { price: 10 }, raw: { price: 10 } });
    expect(() => applyOutput({}, { price: 'price' }, { cost: 1 })).toThrow('Step output has no "price" (mapped to "price")');
  });

  it('writes keys in place only into objects it made itself', () => {
    // 'pos' is read from the data, then written under: the data must not change.
    const input = resolveInput({ pos: 'portfolio.positions.0', 'pos.qty': { value: 9 }, flag: 'flag' }, { data });
    expect(input).toEqual({ pos: { symbol: 'ACME', qty: 9 }, flag: false });
    expect(data.portfolio.positions[0]).toEqual({ symbol: 'ACME', qty: 3 });
    // '$' makes the whole input a value read from the data; later keys copy it.
    const whole = resolveInput({ $: 'portfolio.positions.1', extra: { value: 1 } }, { data });
    expect(whole).toEqual({ symbol: 'XYZ', qty: 0, extra: 1 });
    expect(data.portfolio.positions[1]).toEqual({ symbol: 'XYZ', qty: 0 });
  });

  it('keeps "__proto__" an ordinary key', () => {
    const parsed = JSON.parse('{"__proto__": {"polluted": true}, "a": 1}') as JsonObject;
    for (const written of [setPath(parsed, 'b', 2), setPath({}, '__proto__', { polluted: true }), resolveInput(JSON.parse('{"__proto__": {"value": {"polluted": true}}}') as Record<string, MappingSource>, { data })]) {
      expect(Object.getPrototypeOf(written)).toBe(Object.prototype);
      expect(Object.prototype.hasOwnProperty.call(written, '__proto__')).toBe(true);
      expect((written as { polluted?: unknown }).polluted).toBeUndefined();
    }
  });
});

describe('paths at their edges', () => {
  it('reads the whole value for "" and "$", and nothing from no value', () => {
    expect(getPath(data, '')).toBe(data);
    expect(() => getPath(undefined, 'a')).toThrow(new MappingError('a', '$'));
    expect(() => getPath(undefined, 'a')).toThrow('Missing path "a" (nothing at "$")');
    expect([hasPath(data, 'portfolio.positions.1.qty'), hasPath(data, 'portfolio.x'), hasPath(undefined, '$')]).toEqual([true, false, false]);
  });

  it('reads only own keys and canonical array indices', () => {
    expect(() => getPath({}, 'toString')).toThrow(MappingError);
    const list = { l: Array.from({ length: 11 }, (_, i) => `v${i}`) };
    expect([getPath(list, 'l.0'), getPath(list, 'l.9'), getPath(list, 'l.10')]).toEqual(['v0', 'v9', 'v10']);
    for (const key of ['01', '1a', '-1', '/', ':', 'length']) expect(hasPath(list, `l.${key}`), key).toBe(false);
    const error = (() => { try { getPath(data, 'portfolio.cash.usd'); } catch (caught) { return caught; } })();
    expect(error).toMatchObject({ name: 'MappingError', path: 'portfolio.cash.usd', missingAt: 'portfolio.cash' });
  });

  it('replaces the whole value for "" and "$", and writes through null as through nothing', () => {
    expect(setPath(data, '', 1)).toBe(1);
    expect(setPath(data, '$', 'all')).toBe('all');
    expect(setPath({ a: null }, 'a.b', 1)).toEqual({ a: { b: 1 } });
    expect(setPath(undefined, '2', 'x')).toEqual([null, null, 'x']);
    expect(setPath(undefined, 'k', 'x')).toEqual({ k: 'x' });
    expect(setPath({ l: ['a', 'b', 'c'] }, 'l.1', 'B')).toEqual({ l: ['a', 'B', 'c'] });
    expect(setPath({ l: [] }, 'l.9', 9)).toEqual({ l: [null, null, null, null, null, null, null, null, null, 9] });
  });

  it('names where a write could not go', () => {
    expect(() => setPath(5, 'x', 1)).toThrow(new MappingError('x', '', 'Cannot set "x": "" is not an object'));
    expect(() => setPath({ a: { n: 'text' } }, 'a.n.k', 1)).toThrow('Cannot set "a.n.k": "a.n" is not an object');
    expect(() => setPath({ a: [] }, 'a.01', 1)).toThrow('Cannot set "a.01": "01" is not an array index');
    const error = (() => { try { setPath({ a: [] }, 'a.x.y', 1); } catch (caught) { return caught; } })();
    expect(error).toMatchObject({ path: 'a.x.y', missingAt: 'a.x' });
  });

  it('splits a source into its scope and path', () => {
    expect(parseSourcePath('$output')).toEqual({ scope: 'output', path: '' });
    expect(parseSourcePath('$input')).toEqual({ scope: 'input', path: '' });
    expect(parseSourcePath('$output.a.b')).toEqual({ scope: 'output', path: 'a.b' });
    expect(parseSourcePath('$input.x')).toEqual({ scope: 'input', path: 'x' });
    expect(parseSourcePath('$outputs.x')).toEqual({ scope: 'data', path: '$outputs.x' });
    expect(parseSourcePath('a.b')).toEqual({ scope: 'data', path: 'a.b' });
  });

  it('names the missing source in its own scope', () => {
    const scope = { data, output: { order: {} }, input: { side: 'buy' } };
    expect(() => resolveInput({ x: 'portfolio.cash.usd' }, scope)).toThrow('Missing path "portfolio.cash.usd" (nothing at "portfolio.cash")');
    expect(() => resolveInput({ x: '$output.order.id' }, scope)).toThrow('Missing path "$output.order.id" (nothing at "$output.order.id")');
    expect(() => resolveInput({ x: '$input.account.id' }, scope)).toThrow('Missing path "$input.account.id" (nothing at "$input.account")');
    expect(() => resolveInput({ x: '$input' }, { data })).toThrow('Missing path "$input" (nothing at "$input")');
    expect(resolveInput({ all: '$output', side: '$input.side' }, scope)).toEqual({ all: { order: {} }, side: 'buy' });
    const error = (() => { try { applyOutput({}, { p: 'quote.price' }, { quote: {} }); } catch (caught) { return caught; } })();
    expect(error).toMatchObject({ path: '$output.quote.price', missingAt: '$output.quote.price', message: 'Step output has no "quote.price" (mapped to "p")' });
  });

  it('takes no empty segment and no signed number for an index', () => {
    const list = { l: ['a', 'b'] };
    for (const key of ['', '+1', ' 1']) {
      expect(hasPath(list, `l.${key}`), JSON.stringify(key)).toBe(false);
      expect(() => setPath({ l: [] }, `l.${key}`, 1), JSON.stringify(key)).toThrow(`"${key}" is not an array index`);
    }
    expect(() => setPath({ l: [] }, 'l.-1', 1)).toThrow('"-1" is not an array index');
    expect(() => setPath(5, 'xy', 1)).toThrow('Cannot set "xy": "" is not an object');
  });

  it('treats an empty input target as the whole input, like "$", and then copies it before writing into it', () => {
    const whole = resolveInput({ '': 'portfolio.positions.1', extra: { value: 1 } }, { data });
    expect(whole).toEqual({ symbol: 'XYZ', qty: 0, extra: 1 });
    expect(data.portfolio.positions[1]).toEqual({ symbol: 'XYZ', qty: 0 });
  });

  it('writes each input key once, in order, later keys over earlier ones', () => {
    const literal = { c: 1 };
    expect(resolveInput({ a: { value: literal }, 'a.b': { value: 2 } }, { data })).toEqual({ a: { c: 1, b: 2 } });
    expect(literal).toEqual({ c: 1 });
    expect(resolveInput({ 'x.y': { value: 1 }, z: { value: 2 } }, { data })).toEqual({ x: { y: 1 }, z: 2 });
    expect(resolveInput({}, { data })).toEqual({});
  });
});
