/**
 * Binary events and metadata through the real @eventstore/db-client against the embedded server:
 * the client's `binaryEvent`, and JSON events with Buffer/Uint8Array metadata, on both append paths.
 */
import { binaryEvent, jsonEvent } from '@eventstore/db-client';
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { embeddedWithClient } from './support.js';

/** Per-call credentials make the client use Append instead of BatchAppend (appendToStream/index.js). */
const viaAppend = { credentials: { username: 'any', password: 'any' } };
const BYTES = Uint8Array.from({ length: 300 }, (_, index) => (index * 89) % 256);

describe('embedded EventStoreDB server: binary events', () => {
  const served = embeddedWithClient();

  describe.each([['BatchAppend', {}], ['Append', viaAppend]] as const)('through %s', (_path, callOptions) => {
    it('round-trips binaryEvent data and metadata byte for byte, as application/octet-stream', async () => {
      const stream = `binary-${randomUUID()}`;
      await served.client.appendToStream(stream, [
        binaryEvent({ type: 'Blob', data: BYTES, metadata: Buffer.from([0xff, 0, 1]) }),
        binaryEvent({ type: 'Blob', data: Buffer.from('not json {', 'utf8') }),
      ], callOptions);
      const read = [];
      for await (const resolved of served.client.readStream(stream)) read.push(resolved.event);
      expect(read.map((event) => [event?.type, event?.isJson])).toEqual([['Blob', false], ['Blob', false]]);
      expect([...(read[0]?.data as Uint8Array)]).toEqual([...BYTES]);
      expect([...(read[0]?.metadata as Uint8Array)]).toEqual([0xff, 0, 1]);
      expect(Buffer.from(read[1]?.data as Uint8Array).toString('utf8')).toBe('not json {');
      // The store behind the server has the same bytes: nothing was re-encoded on the way in.
      for await (const stored of served.embedded.store.readStream(stream, { maxCount: 1 })) expect([...(stored.data as Uint8Array)]).toEqual([...BYTES]);
    });

    it('keeps a JSON event with Buffer or Uint8Array metadata, the metadata as given', async () => {
      const stream = `json-binary-metadata-${randomUUID()}`;
      await served.client.appendToStream(stream, [
        jsonEvent({ type: 'Placed', data: { total: 1 }, metadata: Buffer.from([1, 2, 0xfe]) }),
        jsonEvent({ type: 'Placed', data: { total: 2 }, metadata: Uint8Array.from([0x80]) }),
        jsonEvent({ type: 'Placed', data: { total: 3 }, metadata: { correlationId: 'c' } }),
      ], callOptions);
      const read = [];
      for await (const resolved of served.client.readStream(stream)) read.push(resolved.event);
      expect(read.map((event) => [event?.isJson, event?.data])).toEqual([[true, { total: 1 }], [true, { total: 2 }], [true, { total: 3 }]]);
      expect([...(read[0]?.metadata as Uint8Array)]).toEqual([1, 2, 0xfe]);
      expect([...(read[1]?.metadata as Uint8Array)]).toEqual([0x80]);
      expect(read[2]?.metadata).toEqual({ correlationId: 'c' });
    });
  });
});
