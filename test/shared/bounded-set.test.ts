import { describe, expect, it } from 'vitest';
import { BoundedSet } from '../../src/shared/bounded-set.js';

describe('BoundedSet', () => {
  it('forgets the oldest member past its limit, and re-adding makes a member the newest', () => {
    const set = new BoundedSet<string>(2);
    set.add('a');
    set.add('b');
    set.add('a'); // a is now newer than b
    set.add('c');
    expect([set.has('a'), set.has('b'), set.has('c'), set.size]).toEqual([true, false, true, 2]);
    expect(set.delete('a')).toBe(true);
    expect([set.has('a'), set.size]).toEqual([false, 1]);
  });

  it('refuses a limit that is not a positive integer', () => {
    expect(() => new BoundedSet(0)).toThrow('BoundedSet limit must be a positive integer, got 0');
    expect(() => new BoundedSet(1.5)).toThrow(RangeError);
  });
});
