import { describe, expect, it } from 'vitest';
import { MappingError, applyOutput, getPath, resolveInput, setPath, type JsonObject, type MappingSource } from '../../src/workflow/index.js';

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
