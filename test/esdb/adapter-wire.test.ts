/**
 * The adapter's own encoding of BatchAppend requests and reading of subscription events
 * (src/store/esdb-append.ts, esdb-wire-event.ts) must mean what the client's would: requests decode
 * with google-protobuf to the append asked for, and an event read header first becomes the same
 * port event as the client's decoding of the same bytes gives.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import convertModule from '@eventstore/db-client/dist/utils/convertGrpcEvent.js';
import { encodeReadEvent } from '../../src/esdb-server/convert.js';
import { streamsPb } from '../../src/esdb-server/proto.js';
import { encodeReadEventBytes } from '../../src/esdb-server/wire.js';
import { ProtobufWriter } from '../../src/shared/protobuf-writer.js';
import { encodeBatchAppendRequest } from '../../src/store/esdb-append.js';
import { toRecordedEvent } from '../../src/store/esdb-convert.js';
import { deserializeReadResponse, WireEvent } from '../../src/store/esdb-wire-event.js';
import type { ExpectedRevision, Json, RecordedEvent } from '../../src/store/port.js';

const json = fc.jsonValue() as fc.Arbitrary<Json>;
const uint64 = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n });
const recordedEvent: fc.Arbitrary<RecordedEvent> = fc.record({
  id: fc.uuid(),
  type: fc.string({ minLength: 1 }),
  data: json,
  metadata: fc.dictionary(fc.string(), json),
  stream: fc.string({ minLength: 1 }),
  revision: fc.bigInt({ min: 0n, max: (1n << 63n) - 1n }),
  position: uint64.chain((commit) => fc.bigInt({ min: 0n, max: commit }).map((prepare) => ({ commit, prepare }))),
  created: fc.date({ min: new Date(0), max: new Date(8.64e14), noInvalidDate: true }),
});

/** What the client makes of a ReadResp's bytes, as the port's event. */
function throughTheClient(bytes: Buffer): RecordedEvent | undefined {
  const response = streamsPb.ReadResp.deserializeBinary(bytes);
  return toRecordedEvent(convertModule.convertGrpcEvent(response.getEvent() as never));
}

function readHeaderFirst(bytes: Buffer): WireEvent {
  const read = deserializeReadResponse(bytes);
  expect(read).toBeInstanceOf(WireEvent);
  return read as WireEvent;
}

describe('subscription events read header first', () => {
  it('give the header and the same event as the client, whichever encoder wrote them', () => {
    fc.assert(fc.property(recordedEvent, (event) => {
      for (const bytes of [encodeReadEventBytes(event), Buffer.from(encodeReadEvent(event, false).serializeBinary())]) {
        const wire = readHeaderFirst(bytes);
        expect({ stream: wire.stream, revision: wire.revision, position: wire.position, type: wire.type })
          .toEqual({ stream: event.stream, revision: event.revision, position: event.position, type: event.type });
        expect(wire.toRecorded()).toEqual(throughTheClient(bytes));
      }
    }), { numRuns: 200 });
  });

  it('decode binary content, and metadata that is not JSON, as the client does', () => {
    const recorded = encodeReadEvent({
      id: '9a7f9c1e-6f5e-4a53-9b0e-0c1f6d2b7a10', type: 'Blob', data: null, metadata: {}, stream: 'blobs-1',
      revision: 3n, position: { commit: 900n, prepare: 900n }, created: new Date(1_700_000_000_000),
    }, false);
    const record = recorded.getEvent()?.getEvent();
    record?.getMetadataMap().set('content-type', 'application/octet-stream');
    record?.setData(Uint8Array.from([0, 255, 1, 2]));
    record?.setCustomMetadata(Buffer.from('not json', 'utf8'));
    const bytes = Buffer.from(recorded.serializeBinary());
    expect(readHeaderFirst(bytes).toRecorded()).toEqual(throughTheClient(bytes));
    // Bytes stay bytes on the port (a binary event), byte for byte.
    expect(readHeaderFirst(bytes).toRecorded()?.data).toEqual(Uint8Array.from([0, 255, 1, 2]));
    expect(readHeaderFirst(bytes).toRecorded()?.metadata).toEqual(Uint8Array.from(Buffer.from('not json', 'utf8')));
  });

  it('leave every other message to google-protobuf', () => {
    const event: RecordedEvent = {
      id: '9a7f9c1e-6f5e-4a53-9b0e-0c1f6d2b7a10', type: 'T', data: { a: 1 }, metadata: {}, stream: 's',
      revision: 0n, position: { commit: 1n, prepare: 1n }, created: new Date(0),
    };
    const structured = deserializeReadResponse(Buffer.from(encodeReadEvent(event, true).serializeBinary()));
    expect(structured).toBeInstanceOf(streamsPb.ReadResp);
    const confirmation = new streamsPb.ReadResp();
    confirmation.setConfirmation(new streamsPb.ReadResp.SubscriptionConfirmation().setSubscriptionId('x'));
    const decoded = deserializeReadResponse(Buffer.from(confirmation.serializeBinary()));
    expect(decoded).toBeInstanceOf(streamsPb.ReadResp);
    expect((decoded as InstanceType<typeof streamsPb.ReadResp>).getConfirmation()?.getSubscriptionId()).toBe('x');
  });
});

const expectedRevision: fc.Arbitrary<ExpectedRevision> = fc.oneof(
  fc.constantFrom<ExpectedRevision>('any', 'no_stream', 'stream_exists'),
  fc.bigInt({ min: 0n, max: (1n << 63n) - 1n }),
);
const serializedEvent = fc.record({
  id: fc.uuid(),
  type: fc.string({ minLength: 1 }),
  data: json.map((value) => JSON.stringify(value)),
  metadata: fc.option(fc.dictionary(fc.string(), json, { minKeys: 1 }).map((value) => JSON.stringify(value)), { nil: null }),
});

describe('BatchAppend requests written by the adapter', () => {
  it('decode to the append asked for: stream, expected revision, deadline, events, final', () => {
    const writer = new ProtobufWriter(16);
    fc.assert(fc.property(fc.uuid(), fc.string({ minLength: 1 }), fc.array(serializedEvent, { maxLength: 5 }), expectedRevision,
      fc.date({ min: new Date(0), max: new Date(8.64e14), noInvalidDate: true }), (correlationId, stream, events, expected, deadline) => {
        const request = streamsPb.BatchAppendReq.deserializeBinary(encodeBatchAppendRequest(writer, correlationId, stream, events, expected, deadline));
        expect(request.getCorrelationId()?.getString()).toBe(correlationId);
        expect(request.getIsFinal()).toBe(true);
        const options = request.getOptions();
        expect(Buffer.from(options?.getStreamIdentifier()?.getStreamName_asU8() ?? []).toString('utf8')).toBe(stream);
        const sent = options?.hasAny() ? 'any' : options?.hasNoStream() ? 'no_stream' : options?.hasStreamExists() ? 'stream_exists' : BigInt(options?.getStreamPosition() ?? '-1');
        expect(sent).toBe(expected);
        expect(options?.getDeadline()?.toDate().getTime()).toBe(deadline.getTime());
        expect(request.getProposedMessagesList().map((message) => ({
          id: message.getId()?.getString(),
          type: message.getMetadataMap().get('type'),
          contentType: message.getMetadataMap().get('content-type'),
          data: Buffer.from(message.getData_asU8()).toString('utf8'),
          metadata: message.getCustomMetadata_asU8().length > 0 ? Buffer.from(message.getCustomMetadata_asU8()).toString('utf8') : null,
        }))).toEqual(events.map((event) => ({ id: event.id, type: event.type, contentType: 'application/json', data: event.data, metadata: event.metadata })));
      }), { numRuns: 200 });
  });
});
