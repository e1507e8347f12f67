/**
 * docs/api.md: "The comparison is constant-time." What matters: a wrong token of the right length is
 * refused, and the bytes are compared by crypto.timingSafeEqual (spied on, not replaced), never by
 * `===` or Buffer#equals, which stop at the first byte that differs.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import * as crypto from 'node:crypto';
import { bearerMatches } from '../../src/api/auth.js';

vi.mock('node:crypto', async (importOriginal) => {
  const actual = await importOriginal<typeof crypto>();
  return { ...actual, timingSafeEqual: vi.fn(actual.timingSafeEqual) };
});

const token = 'a-long-enough-test-token-1234';
const expected = Buffer.from(`Bearer ${token}`);

afterEach(() => {
  vi.mocked(crypto.timingSafeEqual).mockClear();
});

describe('the bearer token comparison', () => {
  it('accepts the token, through timingSafeEqual', () => {
    expect(bearerMatches(`Bearer ${token}`, expected)).toBe(true);
    expect(crypto.timingSafeEqual).toHaveBeenCalledTimes(1);
  });

  it('refuses a wrong token of the same length, compared in constant time', () => {
    for (const wrong of [`Bearer ${token.slice(0, -1)}X`, `Bearer X${token.slice(1)}`, `bearer ${token}`]) {
      expect(wrong).toHaveLength(expected.length);
      expect(bearerMatches(wrong, expected)).toBe(false);
    }
    expect(crypto.timingSafeEqual).toHaveBeenCalledTimes(3);
  });

  it('refuses a missing header, an empty one, and a token that is longer or shorter', () => {
    for (const wrong of [undefined, '', `Bearer ${token}x`, `Bearer ${token.slice(1)}`, token]) expect(bearerMatches(wrong, expected)).toBe(false);
  });
});
