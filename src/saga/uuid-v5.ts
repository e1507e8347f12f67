/**
 * UUID version 5 (RFC 9562: SHA-1 of namespace + name) in plain JavaScript. Event ids are made for
 * every decided event, and the uuid package's v5 goes through node:crypto's createHash, whose
 * per-call set-up costs more than hashing the ~100 bytes of a name. Same ids, bit for bit (a
 * property test compares with the uuid package). Pure: the scratch buffers hold nothing between calls.
 */
const utf8 = new TextEncoder();
const words = new Uint32Array(80);
let block = new Uint8Array(128);
const hex = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

export function uuidV5(name: string, namespace: Uint8Array): string {
  const nameBytes = utf8.encode(name);
  const length = 16 + nameBytes.length;
  const padded = Math.ceil((length + 9) / 64) * 64;
  if (block.length < padded) block = new Uint8Array(padded * 2);
  block.fill(0, 0, padded);
  block.set(namespace, 0);
  block.set(nameBytes, 16);
  block[length] = 0x80;
  const bits = length * 8;
  block[padded - 4] = (bits >>> 24) & 0xff;
  block[padded - 3] = (bits >>> 16) & 0xff;
  block[padded - 2] = (bits >>> 8) & 0xff;
  block[padded - 1] = bits & 0xff;

  let h0 = 0x67452301, h1 = 0xefcdab89, h2 = 0x98badcfe, h3 = 0x10325476, h4 = 0xc3d2e1f0;
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
    for (let t = 0; t < 80; t++) {
      const f = t < 20 ? ((b & c) | (~b & d)) + 0x5a827999 : t < 40 ? (b ^ c ^ d) + 0x6ed9eba1 : t < 60 ? ((b & c) | (b & d) | (c & d)) + 0x8f1bbcdc : (b ^ c ^ d) + 0xca62c1d6;
      const temp = (((a << 5) | (a >>> 27)) + f + e + (words[t] as number)) | 0;
      e = d;
      d = c;
      c = (b << 30) | (b >>> 2);
      b = a;
      a = temp;
    }
    h0 = (h0 + a) | 0; h1 = (h1 + b) | 0; h2 = (h2 + c) | 0; h3 = (h3 + d) | 0; h4 = (h4 + e) | 0;
  }
  // The first 16 bytes of the digest, with the version (5) and the RFC variant bits set.
  const b6 = ((h1 >>> 8) & 0x0f) | 0x50;
  const b8 = ((h2 >>> 24) & 0x3f) | 0x80;
  return (
    hex[h0 >>> 24]! + hex[(h0 >>> 16) & 0xff]! + hex[(h0 >>> 8) & 0xff]! + hex[h0 & 0xff]! + '-' +
    hex[h1 >>> 24]! + hex[(h1 >>> 16) & 0xff]! + '-' +
    hex[b6]! + hex[h1 & 0xff]! + '-' +
    hex[b8]! + hex[(h2 >>> 16) & 0xff]! + '-' +
    hex[(h2 >>> 8) & 0xff]! + hex[h2 & 0xff]! +
    hex[h3 >>> 24]! + hex[(h3 >>> 16) & 0xff]! + hex[(h3 >>> 8) & 0xff]! + hex[h3 & 0xff]!
  );
}
