/**
 * A definition's stable hash: SHA-256 of its canonical JSON (keys sorted, `undefined` left out),
 * so the same definition always hashes the same, whatever its key order. SHA-256 is written out
 * here because the pure core may not import node:crypto.
 */
import type { WorkflowDefinition } from './definition.js';

/** JSON with object keys sorted at every level. */
export function canonicalJson(value: unknown): string {
  // A copy whose objects were built in sorted key order, then JSON.stringify at native speed: a
  // definition of 10,000 steps is ~2 MB of JSON. Objects list integer-like keys first whatever
  // the order they were set in, and `__proto__` cannot be set as a plain key: a value with such a
  // key anywhere is written out by hand instead.
  try {
    return JSON.stringify(sortedCopy(value)) ?? 'null';
  } catch {
    // UnorderedKeys, thrown by sortedCopy; any other error is thrown again by the path by hand.
    return canonicalJsonByHand(value);
  }
}

/** Thrown (not returned: no check at every level on the way up) for a key an object cannot hold in sorted order. */
class UnorderedKeys extends Error {}

function sortedCopy(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) {
    const items: unknown[] = [];
    for (let i = 0; i < value.length; i++) items.push(sortedCopy(value[i]));
    return items;
  }
  const copy: Record<string, unknown> = {};
  for (const key of Object.keys(value).sort()) {
    const first = key.charCodeAt(0);
    if ((first >= 48 && first <= 57) || key === '__proto__') throw new UnorderedKeys();
    copy[key] = sortedCopy((value as Record<string, unknown>)[key]);
  }
  return copy;
}

function canonicalJsonByHand(value: unknown): string {
  // An undefined array item (or a hole) is written `null`, as JSON.stringify writes it.
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${Array.from(value, canonicalJsonByHand).join(',')}]`;
  const object = value as Record<string, unknown>;
  // sort() without a comparator orders by UTF-16 code units, as sortedCopy's does.
  const members = Object.keys(object).sort().filter((key) => object[key] !== undefined);
  return `{${members.map((key) => `${JSON.stringify(key)}:${canonicalJsonByHand(object[key])}`).join(',')}}`;
}

/** `sha256:<hex>` of the definition's canonical JSON. Pass a validated definition (defaults filled in). */
export function definitionHash(definition: WorkflowDefinition): string {
  const known = hashes.get(definition);
  if (known !== undefined) return known;
  const hash = `sha256:${sha256Hex(canonicalJson(definition))}`;
  // Only a frozen definition (as validateDefinition returns) cannot change after it was hashed.
  if (Object.isFrozen(definition)) hashes.set(definition, hash);
  return hash;
}

const hashes = new WeakMap<object, string>();

const K = new Int32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3,
  0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
  0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
  0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]);

/**
 * SHA-256 (FIPS 180-4) of a string's UTF-8 bytes, as lowercase hex. Written for V8's fast paths:
 * 32-bit integer arithmetic on locals (`| 0`), big-endian words read through a DataView, no
 * destructuring or helper calls in the rounds; a 10,000-step definition (~2 MB of JSON) hashes in tens of ms.
 */
export function sha256Hex(text: string): string {
  const bytes = new TextEncoder().encode(text);
  const length = bytes.length;
  const padded = new Uint8Array(Math.ceil((length + 9) / 64) * 64);
  padded.set(bytes);
  padded[length] = 0x80;
  const end = padded.length;
  // The last 8 bytes: the length in bits, big-endian. setUint32 keeps the integer part modulo
  // 2^32, so these are the high word (zero below 512 MiB of text) and the low word.
  const view = new DataView(padded.buffer);
  view.setUint32(end - 8, length / 2 ** 29);
  view.setUint32(end - 4, length * 8);
  const w = new Int32Array(64);
  let h0 = 0x6a09e667 | 0, h1 = 0xbb67ae85 | 0, h2 = 0x3c6ef372 | 0, h3 = 0xa54ff53a | 0;
  let h4 = 0x510e527f | 0, h5 = 0x9b05688c | 0, h6 = 0x1f83d9ab | 0, h7 = 0x5be0cd19 | 0;
  for (let offset = 0; offset < end; offset += 64) {
    let a = h0, b = h1, c = h2, d = h3, e = h4, f = h5, g = h6, h = h7;
    // The message schedule word by word, as each round needs it: the block's 16 words, then the rest.
    for (let t = 0; t < 64; t++) {
      if (t < 16) {
        w[t] = view.getInt32(offset + t * 4);
      } else {
        const x = w[t - 15] as number, y = w[t - 2] as number;
        const sigma0 = ((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3);
        const sigma1 = ((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10);
        w[t] = ((w[t - 16] as number) + sigma0 + (w[t - 7] as number) + sigma1) | 0;
      }
      const s1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
      const t1 = (h + s1 + ((e & f) ^ (~e & g)) + (K[t] as number) + (w[t] as number)) | 0;
      const s0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
      const t2 = (s0 + ((a & b) ^ (a & c) ^ (b & c))) | 0;
      h = g; g = f; f = e; e = (d + t1) | 0; d = c; c = b; b = a; a = (t1 + t2) | 0;
    }
    h0 = (h0 + a) | 0; h1 = (h1 + b) | 0; h2 = (h2 + c) | 0; h3 = (h3 + d) | 0;
    h4 = (h4 + e) | 0; h5 = (h5 + f) | 0; h6 = (h6 + g) | 0; h7 = (h7 + h) | 0;
  }
  return [h0, h1, h2, h3, h4, h5, h6, h7].map((word) => (word >>> 0).toString(16).padStart(8, '0')).join('');
}
