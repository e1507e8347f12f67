import { describe, expect, it } from 'vitest';
import { vectorOf, vget, vset, vtoArray } from '../../src/saga/vector.js';

describe('persistent vector', () => {
  it('gives back its items in order, at every depth, and vset leaves the original untouched', () => {
    for (const length of [0, 1, 31, 32, 33, 1023, 1024, 1025, 40_000]) {
      const items = Array.from({ length }, (_, i) => i * 3);
      const vector = vectorOf(items);
      expect(vtoArray(vector)).toEqual(items);
      if (length === 0) continue;
      const last = length - 1;
      const changed = vset(vector, last, -1);
      expect(vget(changed, last)).toBe(-1);
      expect(vget(vector, last)).toBe(last * 3);
      expect(vtoArray(changed)).toEqual([...items.slice(0, last), -1]);
      // the array is a copy: changing it changes no vector
      const array = vtoArray(vector);
      array[0] = 99;
      expect(vget(vector, 0)).toBe(0);
    }
  });

  it('refuses an index outside 0..length-1, naming the range', () => {
    const vector = vectorOf([1, 2, 3]);
    for (const index of [-1, 3]) {
      expect(() => vget(vector, index)).toThrow(new RangeError(`Index ${index} out of range 0..2`));
      expect(() => vset(vector, index, 9)).toThrow(new RangeError(`Index ${index} out of range 0..2`));
    }
  });
});
