/**
 * The server reads BatchAppend requests and writes their answers as bytes (batch-append-wire.ts):
 * what it reads must be what google-protobuf reads from the same bytes, and what it writes must
 * decode, through the client's own classes, to the answer it means. The adapter reads the answers as
 * bytes too (esdb-append.ts), checked the same way against google-protobuf.
 */
import fc from 'fast-check';
import { Timestamp } from 'google-protobuf/google/protobuf/timestamp_pb.js';
import { describe, expect, it } from 'vitest';
import { decodeBatchAppendRequest, encodeBatchAppendResponse } from '../../src/esdb-server/batch-append-wire.js';
import { batchErrorStatus } from '../../src/esdb-server/batch-append.js';
import { uuidFromHalves } from '../../src/esdb-server/convert.js';
import { GoogleEmpty, sharedPb, streamsPb } from '../../src/esdb-server/proto.js';
import { decodeBatchAppendAnswer } from '../../src/store/esdb-append.js';
import { WrongExpectedVersionError } from '../../src/store/errors.js';
import { START_POSITION } from '../../src/store/port.js';

const int64 = fc.bigInt({ min: -(1n << 63n), max: (1n << 63n) - 1n });
const uuid = fc.oneof(
  fc.uuid().map((text) => ({ text })),
  fc.tuple(int64, int64).map(([most, least]) => ({ most, least })),
);
const expected = fc.oneof(
  fc.constantFrom('any' as const, 'no_stream' as const, 'stream_exists' as const),
  fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
);
const proposed = fc.record({
  id: uuid,
  // google-protobuf's maps live in plain objects: a `__proto__` key never reaches the wire.
  metadata: fc.dictionary(fc.string().filter((key) => key !== '__proto__'), fc.string(), { maxKeys: 4 }),
  data: fc.uint8Array({ maxLength: 64 }),
  customMetadata: fc.uint8Array({ maxLength: 32 }),
});
const request = fc.record({
  correlation: fc.option(uuid, { nil: undefined }),
  options: fc.option(fc.record({
    stream: fc.option(fc.string(), { nil: undefined }),
    expected: fc.option(expected, { nil: undefined }),
    deadlineMs: fc.option(fc.integer({ min: 0, max: 4_102_444_800_000 }), { nil: undefined }),
  }), { nil: undefined }),
  proposed: fc.array(proposed, { maxLength: 4 }),
  isFinal: fc.boolean(),
});

type Uuid = { text: string } | { most: bigint; least: bigint };

function uuidMessage(value: Uuid) {
  const message = new sharedPb.UUID();
  if ('text' in value) message.setString(value.text);
  else {
    const structured = new sharedPb.UUID.Structured();
    structured.setMostSignificantBits(value.most.toString());
    structured.setLeastSignificantBits(value.least.toString());
    message.setStructured(structured);
  }
  return message;
}

const uuidText = (value: Uuid) => ('text' in value ? value.text : uuidFromHalves(value.most, value.least));

describe('BatchAppend requests read as bytes', () => {
  it('read what google-protobuf wrote: correlation, stream, expected revision, deadline, every proposed event', () => {
    fc.assert(fc.property(request, (sent) => {
      const message = new streamsPb.BatchAppendReq();
      if (sent.correlation) message.setCorrelationId(uuidMessage(sent.correlation));
      if (sent.options) {
        const options = new streamsPb.BatchAppendReq.Options();
        if (sent.options.stream !== undefined) {
          const identifier = new sharedPb.StreamIdentifier();
          identifier.setStreamName(Buffer.from(sent.options.stream, 'utf8'));
          options.setStreamIdentifier(identifier);
        }
        const revision = sent.options.expected;
        if (revision === 'any') options.setAny(new GoogleEmpty());
        else if (revision === 'no_stream') options.setNoStream(new GoogleEmpty());
        else if (revision === 'stream_exists') options.setStreamExists(new GoogleEmpty());
        else if (revision !== undefined) options.setStreamPosition(revision.toString());
        if (sent.options.deadlineMs !== undefined) options.setDeadline(Timestamp.fromDate(new Date(sent.options.deadlineMs)));
        message.setOptions(options);
      }
      for (const event of sent.proposed) {
        const proposedMessage = new streamsPb.BatchAppendReq.ProposedMessage();
        proposedMessage.setId(uuidMessage(event.id));
        for (const [key, value] of Object.entries(event.metadata)) proposedMessage.getMetadataMap().set(key, value);
        proposedMessage.setData(event.data);
        proposedMessage.setCustomMetadata(event.customMetadata);
        message.addProposedMessages(proposedMessage);
      }
      message.setIsFinal(sent.isFinal);

      const read = decodeBatchAppendRequest(Buffer.from(message.serializeBinary()));

      expect(read.isFinal).toBe(sent.isFinal);
      expect(read.correlationId === undefined).toBe(sent.correlation === undefined);
      if (sent.correlation) expect(read.correlationKey).toBe('text' in sent.correlation ? sent.correlation.text : `${sent.correlation.most}/${sent.correlation.least}`);
      expect(read.options === undefined).toBe(sent.options === undefined);
      if (sent.options && read.options) {
        expect(read.options.streamName?.toString('utf8')).toBe(sent.options.stream);
        expect(read.options.expected).toEqual(sent.options.expected);
        expect(read.options.deadlineMs).toBe(sent.options.deadlineMs);
      }
      expect(read.proposed.map((event) => ({
        id: event.id === undefined ? undefined : uuidText(event.id),
        metadata: Object.fromEntries(event.metadata),
        data: [...event.data],
        customMetadata: [...event.customMetadata],
      }))).toEqual(sent.proposed.map((event) => ({
        id: uuidText(event.id),
        metadata: event.metadata,
        data: [...event.data],
        customMetadata: [...event.customMetadata],
      })));
    }), { numRuns: 300 });
  });

  it('refuses a malformed message instead of reading garbage (grpc-js then fails the call)', () => {
    // Field 2 (options) says 50 bytes follow; 1 does.
    expect(() => decodeBatchAppendRequest(Buffer.from([0x12, 50, 0x0a]))).toThrow(/Malformed protobuf message/);
  });
});

describe('BatchAppend answers written as bytes', () => {
  it('decode, through the client classes, to the success meant: correlation id echoed, revision, position, stream', () => {
    const revisions = fc.bigInt({ min: -1n, max: (1n << 63n) - 1n });
    const positions = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n });
    fc.assert(fc.property(uuid, fc.string(), revisions, positions, positions, (correlation, stream, revision, commit, prepare) => {
      const correlationId = Buffer.from(uuidMessage(correlation).serializeBinary());
      const bytes = encodeBatchAppendResponse({ correlationId, stream, outcome: { result: { nextExpectedRevision: revision, position: { commit, prepare } } } });
      const decoded = streamsPb.BatchAppendResp.deserializeBinary(bytes);
      expect(Buffer.from(decoded.getCorrelationId()?.serializeBinary() ?? []).equals(correlationId)).toBe(true);
      expect(Buffer.from(decoded.getStreamIdentifier()?.getStreamName_asU8() ?? []).toString('utf8')).toBe(stream);
      const success = decoded.getSuccess();
      expect(decoded.hasError()).toBe(false);
      if (revision < 0n) expect(success?.hasNoStream()).toBe(true);
      else expect(success?.getCurrentRevision()).toBe(revision.toString());
      expect(success?.getPosition()?.getCommitPosition()).toBe(commit.toString());
      expect(success?.getPosition()?.getPreparePosition()).toBe(prepare.toString());
    }), { numRuns: 300 });
  });

  it('carry an error Status as google-protobuf built it (wrong expected version with both revisions)', () => {
    const correlationId = Buffer.from(uuidMessage({ text: '0b7f4a6e-6d43-4a5e-9f27-9b1c1d2e3f40' }).serializeBinary());
    const status = batchErrorStatus(new WrongExpectedVersionError('orders-1', 3n, 5n), 'orders-1');
    const decoded = streamsPb.BatchAppendResp.deserializeBinary(encodeBatchAppendResponse({ correlationId, stream: 'orders-1', outcome: { error: status } }));
    expect(decoded.hasSuccess()).toBe(false);
    expect(decoded.getError()?.getMessage()).toBe('WrongExpectedVersion');
    const details = sharedPb.WrongExpectedVersion.deserializeBinary(decoded.getError()?.getDetails()?.getValue_asU8() ?? new Uint8Array());
    expect(details.getExpectedStreamPosition()).toBe('3');
    expect(details.getCurrentStreamRevision()).toBe('5');
  });
});

describe("the adapter's reading of BatchAppend answers", () => {
  it('reads what google-protobuf wrote: correlation id, revision or no stream, position or none', () => {
    const revisions = fc.option(fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), { nil: undefined });
    const positions = fc.option(fc.tuple(fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), fc.bigInt({ min: 0n, max: (1n << 64n) - 1n })), { nil: undefined });
    fc.assert(fc.property(fc.uuid(), revisions, positions, (correlationId, revision, position) => {
      const success = new streamsPb.BatchAppendResp.Success();
      if (revision === undefined) success.setNoStream(new GoogleEmpty());
      else success.setCurrentRevision(revision.toString());
      if (position === undefined) success.setNoPosition(new GoogleEmpty());
      else {
        const allPosition = new sharedPb.AllStreamPosition();
        allPosition.setCommitPosition(position[0].toString());
        allPosition.setPreparePosition(position[1].toString());
        success.setPosition(allPosition);
      }
      const response = new streamsPb.BatchAppendResp();
      response.setCorrelationId(uuidMessage({ text: correlationId }));
      response.setSuccess(success);
      const answer = decodeBatchAppendAnswer(Buffer.from(response.serializeBinary()));
      expect(answer.correlationId).toBe(correlationId);
      expect(answer.refusal).toBeUndefined();
      expect(answer.result).toEqual({
        nextExpectedRevision: revision ?? -1n,
        position: position === undefined ? START_POSITION : { commit: position[0], prepare: position[1] },
      });
    }), { numRuns: 300 });
  });

  it("keeps a refusal's bytes whole, so the client's own classes read its reason", () => {
    const correlationId = Buffer.from(uuidMessage({ text: '0b7f4a6e-6d43-4a5e-9f27-9b1c1d2e3f40' }).serializeBinary());
    const bytes = encodeBatchAppendResponse({ correlationId, stream: 'orders-1', outcome: { error: batchErrorStatus(new WrongExpectedVersionError('orders-1', 3n, 5n), 'orders-1') } });
    const answer = decodeBatchAppendAnswer(bytes);
    expect(answer.correlationId).toBe('0b7f4a6e-6d43-4a5e-9f27-9b1c1d2e3f40');
    expect(answer.result).toBeUndefined();
    expect(answer.refusal?.equals(bytes)).toBe(true);
  });
});
