/**
 * Binary events and metadata in the store contract: bytes go in and come back byte for byte through
 * every read and subscription, on every backend (EventStoreDB's application/octet-stream events and
 * its custom metadata, which is bytes).
 */
import { expect, it } from 'vitest';
import type { EventStore, RecordedEvent } from '../../../src/store/port.js';
import { collect, eventsOf, takeUntil } from './helpers.js';
import { randomUUID } from 'node:crypto';

/** Bytes no text decoder would keep: invalid UTF-8, NUL, every byte value once. */
const ALL_BYTES = Uint8Array.from({ length: 256 }, (_, index) => (index * 167) % 256);
const NOT_JSON = Uint8Array.from([0xff, 0x00, 0x7b, 0x22, 0xc3]);

function bytes(value: unknown): number[] {
  expect(value).toBeInstanceOf(Uint8Array);
  return [...(value as Uint8Array)];
}

export function describeBinaryContract(currentStore: () => EventStore, streamName: (suffix: string) => string): void {
  it('round-trips binary data and binary metadata byte for byte through reads and subscriptions', async () => {
    const store = currentStore();
    const stream = streamName('binary');
    const written = [
      { id: randomUUID(), type: 'Blob', data: ALL_BYTES, metadata: NOT_JSON },
      // A Buffer is a Uint8Array too; what comes back is a plain Uint8Array with the same bytes.
      { id: randomUUID(), type: 'Json', data: { kept: true }, metadata: Buffer.from(NOT_JSON) },
      { id: randomUUID(), type: 'BlobWithJsonMetadata', data: Buffer.from('plain text, not JSON'), metadata: { correlationId: 'c-1' } },
      { id: randomUUID(), type: 'Empty', data: new Uint8Array(0) },
    ];
    await store.append(stream, written, { expectedRevision: 'no_stream' });

    const check = (read: readonly RecordedEvent[]) => {
      expect(read.map((one) => one.id)).toEqual(written.map((one) => one.id));
      const [blob, json, text, empty] = read;
      expect(bytes(blob?.data)).toEqual([...ALL_BYTES]);
      expect(bytes(blob?.metadata)).toEqual([...NOT_JSON]);
      expect(json?.data).toEqual({ kept: true });
      expect(bytes(json?.metadata)).toEqual([...NOT_JSON]);
      expect(Buffer.from(text?.data as Uint8Array).toString('utf8')).toBe('plain text, not JSON');
      expect(text?.metadata).toEqual({ correlationId: 'c-1' });
      expect(bytes(empty?.data)).toEqual([]);
      expect(empty?.metadata).toEqual({});
    };
    check(await collect(() => store.readStream(stream)));
    check((await collect(() => store.readStream(stream, { direction: 'backwards' }))).reverse());
    check(await collect(() => store.readAll({ filter: { streamNamePrefix: [stream] } })));
    check(eventsOf(await takeUntil(store.subscribeToStream(stream), (messages) => messages.some((m) => m.kind === 'caughtUp'))));
  });

  it('re-appends a binary event idempotently', async () => {
    const store = currentStore();
    const stream = streamName('binary-again');
    const once = { id: randomUUID(), type: 'Blob', data: Uint8Array.from([1, 2, 3]) };
    const first = await store.append(stream, [once], { expectedRevision: 'no_stream' });
    const again = await store.append(stream, [once], { expectedRevision: 'no_stream' });
    expect(again.nextExpectedRevision).toBe(first.nextExpectedRevision);
    expect((await collect(() => store.readStream(stream))).map((one) => bytes(one.data))).toEqual([[1, 2, 3]]);
  });
}
