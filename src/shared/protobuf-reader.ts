/**
 * A small protobuf reader for the hot messages of EventStoreDB's protocol that cadenza reads as
 * bytes itself (the adapter's subscription events): fields are read in place, length-delimited ones
 * as views of the message's buffer, so a field nobody asks for costs nothing but skipping it.
 */

export const WIRE_VARINT = 0;
export const WIRE_FIXED64 = 1;
export const WIRE_LENGTH_DELIMITED = 2;
export const WIRE_FIXED32 = 5;

export class ProtobufError extends Error {
  constructor(message: string) {
    super(`Malformed protobuf message: ${message}`);
    this.name = 'ProtobufError';
  }
}

export class ProtobufReader {
  readonly #buffer: Buffer;
  #position: number;

  constructor(buffer: Buffer, start = 0) {
    this.#buffer = buffer;
    this.#position = start;
  }

  get position(): number {
    return this.#position;
  }

  /** The next field's tag (field number * 8 + wire type). */
  tag(): number {
    return this.varint();
  }

  /** A varint of up to 2^53 - 1 (field tags, lengths, small integers). */
  varint(): number {
    let result = 0;
    let scale = 1;
    for (;;) {
      if (this.#position >= this.#buffer.length) throw new ProtobufError('a varint runs past the end');
      const byte = this.#buffer[this.#position++] as number;
      result += (byte & 0x7f) * scale;
      if (byte < 0x80) return result;
      scale *= 128;
      if (scale > 2 ** 63) throw new ProtobufError('a varint is longer than 10 bytes');
    }
  }

  /** A uint64 varint, exactly. */
  uint64(): bigint {
    const start = this.#position;
    const small = this.varint();
    if (this.#position - start <= 7) return BigInt(small); // up to 49 bits: exact as a number
    let result = 0n;
    let shift = 0n;
    for (let index = start; index < this.#position; index++) {
      result |= BigInt((this.#buffer[index] as number) & 0x7f) << shift;
      shift += 7n;
    }
    return BigInt.asUintN(64, result);
  }

  /** The end offset of the length-delimited field starting here (the reader moves to its content). */
  lengthDelimitedEnd(): number {
    const length = this.varint();
    const end = this.#position + length;
    if (end > this.#buffer.length) throw new ProtobufError('a field runs past the end');
    return end;
  }

  /** A length-delimited field's content, as a view of the buffer. */
  bytes(): Buffer {
    const end = this.lengthDelimitedEnd();
    const view = this.#buffer.subarray(this.#position, end);
    this.#position = end;
    return view;
  }

  string(): string {
    const end = this.lengthDelimitedEnd();
    const text = this.#buffer.toString('utf8', this.#position, end);
    this.#position = end;
    return text;
  }

  /** Move to `offset` (the end of a nested message whose fields were read). */
  seek(offset: number): void {
    this.#position = offset;
  }

  skip(wireType: number): void {
    if (wireType === WIRE_VARINT) this.varint();
    else if (wireType === WIRE_LENGTH_DELIMITED) this.#position = this.lengthDelimitedEnd();
    else if (wireType === WIRE_FIXED64) this.#position += 8;
    else if (wireType === WIRE_FIXED32) this.#position += 4;
    else throw new ProtobufError(`unsupported wire type ${wireType}`);
    if (this.#position > this.#buffer.length) throw new ProtobufError('a field runs past the end');
  }
}
