import fc from 'fast-check';
import { parse, v5 } from 'uuid';
import { describe, expect, it } from 'vitest';
import { uuidV5 } from '../../src/saga/uuid-v5.js';
import { propertyRuns } from './spec.js';

const namespace = '3f0c8a52-6d0e-5c7b-9a4e-2b1d7c9e8f10';

describe('uuidV5', () => {
  it('matches the uuid package for the RFC example and any name', () => {
    // RFC 9562 appendix: v5 of "www.example.com" in the DNS namespace.
    expect(uuidV5('www.example.com', parse('6ba7b810-9dad-11d1-80b4-00c04fd430c8'))).toBe('2ed6657d-e927-568b-95e1-2665a8aea6a2');
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 300 }), (name) => {
        expect(uuidV5(name, parse(namespace))).toBe(v5(name, namespace));
      }),
      { numRuns: propertyRuns(500) },
    );
  });

  it('handles names across block boundaries', () => {
    for (let length = 0; length < 200; length++) {
      const name = 'x'.repeat(length);
      expect(uuidV5(name, parse(namespace))).toBe(v5(name, namespace));
    }
  });

  it('handles long non-ASCII names, and names that turn non-ASCII late', () => {
    // ASCII is copied byte by byte and anything else goes through TextEncoder: check both, across
    // several blocks, and that a long name leaves nothing behind for a shorter one.
    for (const unit of ['é', '€', '😀', 'a\u0000ü']) {
      for (const length of [1, 20, 47, 48, 100, 400]) {
        const name = unit.repeat(length);
        expect(uuidV5(name, parse(namespace))).toBe(v5(name, namespace));
      }
    }
    for (let prefix = 0; prefix < 200; prefix += 13) {
      const name = `${'y'.repeat(prefix)}ü${'z'.repeat(prefix % 70)}`;
      expect(uuidV5(name, parse(namespace))).toBe(v5(name, namespace));
    }
    for (let length = 300; length >= 0; length -= 7) {
      const name = 'q'.repeat(length);
      expect(uuidV5(name, parse(namespace))).toBe(v5(name, namespace));
    }
  });

  it('gives a long name its id right after a short one, ASCII or not', () => {
    // The scratch block must grow for the long name whatever the calls before it left: from a
    // short name to one several blocks long, both ways of copying the name in.
    for (const long of ['L'.repeat(300), 'ł'.repeat(300), `${'L'.repeat(150)}ł`]) {
      for (const short of ['', 's', 'ś']) {
        expect(uuidV5(short, parse(namespace))).toBe(v5(short, namespace));
        expect(uuidV5(long, parse(namespace)), `${long.length} characters after ${short.length}`).toBe(v5(long, namespace));
      }
    }
  });
});

describe('uuidV5 from its first scratch block', () => {
  it('gives the same ids for names that fit its first block as characters but not as UTF-8 bytes', async () => {
    // The block starts at 128 bytes and only grows, so earlier tests hide this edge: a fresh copy of
    // the module (its own instance under another specifier) starts from the first size. Names of
    // 35-39 three-byte characters fit the first block as characters, not as UTF-8 bytes.
    const specifier = '../../src/saga/uuid-v5.js?first-block';
    const fresh = (await import(specifier)) as { uuidV5: typeof uuidV5 };
    for (let length = 30; length <= 45; length++) {
      const name = '€'.repeat(length);
      expect(fresh.uuidV5(name, parse(namespace))).toBe(v5(name, namespace));
    }
  });
});
