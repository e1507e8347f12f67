/**
 * UUID version 5 (RFC 9562: SHA-1 of namespace + name) in plain JavaScript. Event ids are made for
 * every decided event, and the uuid package's v5 goes through node:crypto's createHash, whose
 * per-call set-up costs more than hashing the ~100 bytes of a name. Same ids, bit for bit (a
 * property test compares with the uuid package). Pure: the scratch buffers hold nothing between calls.
 *
 * It runs once per decided event, so it allocates nothing but the id: ASCII names (every event id's)
 * are copied into the block by hand, as TextEncoder.encode would allocate a fresh array per call.
 */
const utf8 = new TextEncoder();
const words = new Uint32Array(80);
let block = new Uint8Array(128);

/** The 36 character codes of the id being written; the dashes never move. */
const uuidChars: number[] = Array.from('00000000-0000-0000-0000-000000000000', (char) => char.charCodeAt(0));
const hexDigits = Array.from('0123456789abcdef', (char) => char.charCodeAt(0));

function putByte(at: number, value: number): void {
  uuidChars[at] = hexDigits[(value >>> 4) & 0x0f] as number;
  uuidChars[at + 1] = hexDigits[value & 0x0f] as number;
}

/** A message of `length` bytes with SHA-1's padding (0x80, zeros, the 8-byte length): whole 64-byte blocks. */
function paddedLength(length: number): number {
  return Math.ceil((length + 9) / 64) * 64;
}

/** Grows the scratch block (never shrinks it) to hold a message of `length` bytes, padded; twice that, so that slightly longer names do not grow it again. */
function growBlockFor(length: number): void {
  const padded = paddedLength(length);
  if (block.length < padded) block = new Uint8Array(padded * 2);
}

export function uuidV5(name: string, namespace: Uint8Array): string {
  // Optimistic: one byte per char. A non-ASCII name is encoded again, properly, below.
  let length = 16 + name.length;
  growBlockFor(length);
  let ascii = true;
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c > 0x7f) { ascii = false; break; }
    block[16 + i] = c;
  }
  if (!ascii) {
    const bytes = utf8.encode(name);
    length = 16 + bytes.length;
    growBlockFor(length);
    block.set(bytes, 16);
  }
  const padded = paddedLength(length);
  block.set(namespace, 0);
  block[length] = 0x80;
  // Zero only the padding between the 0x80 and the length: everything before it was just written.
  block.fill(0, length + 1, padded - 4);
  const bits = length * 8;
  block[padded - 4] = (bits >>> 24) & 0xff;
  block[padded - 3] = (bits >>> 16) & 0xff;
  block[padded - 2] = (bits >>> 8) & 0xff;
  block[padded - 1] = bits & 0xff;

  // `| 0` makes the constants above 2^31 int32 from the start: as doubles they kept the hash's
  // arithmetic off V8's integer path (a third slower).
  let h0 = 0x67452301, h1 = 0xefcdab89 | 0, h2 = 0x98badcfe | 0, h3 = 0x10325476, h4 = 0xc3d2e1f0 | 0;
  for (let offset = 0; offset < padded; offset += 64) {
    for (let t = 0; t < 16; t++) {
      const i = offset + t * 4;
      words[t] = ((block[i] as number) << 24) | ((block[i + 1] as number) << 16) | ((block[i + 2] as number) << 8) | (block[i + 3] as number);
    }
    for (let t = 16; t < 80; t++) {
      const x = (words[t - 3] as number) ^ (words[t - 8] as number) ^ (words[t - 14] as number) ^ (words[t - 16] as number);
      words[t] = (x << 1) | (x >>> 31);
    }
    let a = h0, b = h1, c = h2, d = h3, e = h4;
    let t = 0;
    // The four 20-round stages as separate loops: no choice of function and constant per round.
    for (; t < 20; t++) {
      const temp = (((a << 5) | (a >>> 27)) + ((b & c) | (~b & d)) + 0x5a827999 + e + (words[t] as number)) | 0;
      e = d; d = c; c = (b << 30) | (b >>> 2); b = a; a = temp;
    }
    for (; t < 40; t++) {
      const temp = (((a << 5) | (a >>> 27)) + (b ^ c ^ d) + 0x6ed9eba1 + e + (words[t] as number)) | 0;
      e = d; d = c; c = (b << 30) | (b >>> 2); b = a; a = temp;
    }
    for (; t < 60; t++) {
      const temp = (((a << 5) | (a >>> 27)) + ((b & c) | (b & d) | (c & d)) + 0x8f1bbcdc + e + (words[t] as number)) | 0;
      e = d; d = c; c = (b << 30) | (b >>> 2); b = a; a = temp;
    }
    for (; t < 80; t++) {
      const temp = (((a << 5) | (a >>> 27)) + (b ^ c ^ d) + 0xca62c1d6 + e + (words[t] as number)) | 0;
      e = d; d = c; c = (b << 30) | (b >>> 2); b = a; a = temp;
    }
    h0 = (h0 + a) | 0; h1 = (h1 + b) | 0; h2 = (h2 + c) | 0; h3 = (h3 + d) | 0; h4 = (h4 + e) | 0;
  }
  // The first 16 bytes of the digest, with the version (5) and the RFC variant bits set, written as
  // character codes and made into one string (a chain of concatenations allocates a string per step).
  putByte(0, h0 >>> 24); putByte(2, h0 >>> 16); putByte(4, h0 >>> 8); putByte(6, h0);
  putByte(9, h1 >>> 24); putByte(11, h1 >>> 16);
  putByte(14, ((h1 >>> 8) & 0x0f) | 0x50); putByte(16, h1);
  putByte(19, ((h2 >>> 24) & 0x3f) | 0x80); putByte(21, h2 >>> 16);
  putByte(24, h2 >>> 8); putByte(26, h2);
  putByte(28, h3 >>> 24); putByte(30, h3 >>> 16); putByte(32, h3 >>> 8); putByte(34, h3);
  return String.fromCharCode.apply(null, uuidChars);
}
