/**
 * A small protobuf writer for the few hot messages of EventStoreDB's protocol that cadenza writes as
 * bytes itself (the server's ReadResp events, the adapter's BatchAppend requests): google-protobuf
 * builds an object graph per message and then walks it, which cost more than the rest of an append
 * or a read. One growing buffer; a nested message is written in place and its length put in front
 * of it when it ends (`begin`/`end`), so nothing is copied twice.
 */

const WIRE_VARINT = 0;
const WIRE_LENGTH_DELIMITED = 2;

function varintSize(value: number): number {
  let size = 1;
  for (let rest = value; rest >= 0x80; rest = Math.floor(rest / 128)) size += 1;
  return size;
}

export class ProtobufWriter {
  #buffer: Buffer;
  #length = 0;

  constructor(initialSize = 512) {
    this.#buffer = Buffer.allocUnsafe(initialSize);
  }

  #reserve(bytes: number): void {
    const needed = this.#length + bytes;
    if (needed <= this.#buffer.length) return;
    const grown = Buffer.allocUnsafe(Math.max(needed, this.#buffer.length * 2));
    this.#buffer.copy(grown, 0, 0, this.#length);
    this.#buffer = grown;
  }

  /** An unsigned varint of a non-negative safe integer (larger values: `#bigVarint`). */
  #varint(value: number): void {
    this.#reserve(10);
    let rest = value;
    while (rest >= 0x80) {
      this.#buffer[this.#length++] = (rest % 128) | 0x80;
      rest = Math.floor(rest / 128);
    }
    this.#buffer[this.#length++] = rest;
  }

  #bigVarint(value: bigint): void {
    if (value <= BigInt(Number.MAX_SAFE_INTEGER)) {
      this.#varint(Number(value));
      return;
    }
    // Above 2^53: the low 32 bits and the rest, so a number never loses precision.
    const low = Number(value & 0xffffffffn);
    const high = Number(value >> 32n);
    this.#reserve(10);
    let lowRest = low;
    for (let i = 0; i < 4; i++) {
      this.#buffer[this.#length++] = (lowRest % 128) | 0x80;
      lowRest = Math.floor(lowRest / 128);
    }
    // 28 bits written; the remaining 4 of the low word join the high word.
    let rest = lowRest + high * 16;
    while (rest >= 0x80) {
      this.#buffer[this.#length++] = (rest % 128) | 0x80;
      rest = Math.floor(rest / 128);
    }
    this.#buffer[this.#length++] = rest;
  }

  #tag(field: number, wireType: number): void {
    this.#varint(field * 8 + wireType);
  }

  /** A uint64 / int64 (non-negative) / bool field; proto3 leaves zero out unless `always`. */
  uint64(field: number, value: bigint | number, always = false): this {
    if (!always && (value === 0 || value === 0n)) return this;
    this.#tag(field, WIRE_VARINT);
    if (typeof value === 'bigint') this.#bigVarint(value);
    else this.#varint(value);
    return this;
  }

  bytes(field: number, value: Uint8Array, always = false): this {
    if (value.length === 0 && !always) return this;
    this.#tag(field, WIRE_LENGTH_DELIMITED);
    this.#varint(value.length);
    this.#reserve(value.length);
    this.#buffer.set(value, this.#length);
    this.#length += value.length;
    return this;
  }

  /** A string (or bytes field holding UTF-8 text), written straight into the buffer. */
  string(field: number, value: string, always = false): this {
    if (value.length === 0 && !always) return this;
    this.#tag(field, WIRE_LENGTH_DELIMITED);
    const size = Buffer.byteLength(value, 'utf8');
    this.#varint(size);
    this.#reserve(size);
    this.#length += this.#buffer.write(value, this.#length, 'utf8');
    return this;
  }

  /** One entry of a map<string, string> field. */
  mapEntry(field: number, key: string, value: string): this {
    const mark = this.begin(field);
    this.string(1, key);
    this.string(2, value);
    return this.end(mark);
  }

  /** Start a nested message in `field`; returns the mark `end` takes. */
  begin(field: number): number {
    this.#tag(field, WIRE_LENGTH_DELIMITED);
    return this.#length;
  }

  /** End the nested message begun at `mark`: its length goes in front of it. */
  end(mark: number): this {
    const length = this.#length - mark;
    const prefix = varintSize(length);
    this.#reserve(prefix);
    this.#buffer.copyWithin(mark + prefix, mark, this.#length);
    const end = this.#length + prefix;
    this.#length = mark;
    this.#varint(length);
    this.#length = end;
    return this;
  }

  /** An empty nested message (google.protobuf.Empty as a oneof member). */
  empty(field: number): this {
    return this.end(this.begin(field));
  }

  /** Start over, keeping the buffer. */
  reset(): this {
    this.#length = 0;
    return this;
  }

  /** The bytes written so far, copied out (the writer may be reused). */
  finish(): Buffer {
    return Buffer.from(this.#buffer.subarray(0, this.#length));
  }
}
