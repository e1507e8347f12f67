/**
 * A direct protobuf encoder for the one hot message, ReadResp{event}: every event of every read and
 * catch-up goes through it. google-protobuf builds an object graph per message and then walks it;
 * writing the bytes straight away is several times cheaper. Field numbers are those of the
 * client's streams.proto / shared.proto (ReadResp.event = 1; ReadEvent.event = 1, commit_position = 3;
 * RecordedEvent id = 1, stream_identifier = 2, stream_revision = 3, prepare_position = 4,
 * commit_position = 5, metadata = 6, custom_metadata = 7, data = 8; UUID.string = 2;
 * StreamIdentifier.stream_name = 3). Structured UUIDs still go through google-protobuf.
 */
import type { RecordedEvent } from '../store/port.js';
import { contentTypeOf, dataBytesOf, metadataBytesOf } from './convert.js';

const TICKS_PER_MILLISECOND = 10_000n;

class ByteWriter {
  readonly #chunks: Buffer[] = [];
  #length = 0;

  get length(): number {
    return this.#length;
  }

  #push(chunk: Buffer): void {
    this.#chunks.push(chunk);
    this.#length += chunk.length;
  }

  varint(value: bigint | number): void {
    let rest = BigInt(value);
    const bytes: number[] = [];
    while (rest > 0x7fn) {
      bytes.push(Number(rest & 0x7fn) | 0x80);
      rest >>= 7n;
    }
    bytes.push(Number(rest));
    this.#push(Buffer.from(bytes));
  }

  /** A varint field, left out when zero as proto3 does. */
  uint64(field: number, value: bigint): void {
    if (value === 0n) return;
    this.varint((field << 3) | 0);
    this.varint(value);
  }

  bytes(field: number, value: Buffer | ByteWriter, always = false): void {
    const length = value.length;
    if (length === 0 && !always) return;
    this.varint((field << 3) | 2);
    this.varint(length);
    if (value instanceof ByteWriter) for (const chunk of value.#chunks) this.#push(chunk);
    else this.#push(value);
  }

  string(field: number, value: string): void {
    this.bytes(field, Buffer.from(value, 'utf8'));
  }

  toBuffer(): Buffer {
    return Buffer.concat(this.#chunks, this.#length);
  }
}

function mapEntry(key: string, value: string): ByteWriter {
  const entry = new ByteWriter();
  entry.string(1, key);
  entry.string(2, value);
  return entry;
}

/** The serialized ReadResp carrying one event, as google-protobuf would write it. */
export function encodeReadEventBytes(event: RecordedEvent): Buffer {
  const id = new ByteWriter();
  id.string(2, event.id);
  const streamIdentifier = new ByteWriter();
  streamIdentifier.string(3, event.stream);

  const recorded = new ByteWriter();
  recorded.bytes(1, id, true);
  recorded.bytes(2, streamIdentifier, true);
  recorded.uint64(3, event.revision);
  recorded.uint64(4, event.position.prepare);
  recorded.uint64(5, event.position.commit);
  recorded.bytes(6, mapEntry('type', event.type), true);
  recorded.bytes(6, mapEntry('content-type', contentTypeOf(event)), true);
  recorded.bytes(6, mapEntry('created', (BigInt(event.created.getTime()) * TICKS_PER_MILLISECOND).toString()), true);
  recorded.bytes(7, metadataBytesOf(event));
  recorded.bytes(8, dataBytesOf(event));

  const readEvent = new ByteWriter();
  readEvent.bytes(1, recorded, true);
  // commit_position is a oneof member: written even when zero, so the client sees it set.
  readEvent.varint((3 << 3) | 0);
  readEvent.varint(event.position.commit);

  const response = new ByteWriter();
  response.bytes(1, readEvent, true);
  return response.toBuffer();
}
