/**
 * Wire behaviour of the embedded server, checked with the real @eventstore/db-client (not through
 * our adapter) and, for what the client hides, with raw gRPC calls on the generated stubs.
 */
import {
  AccessDeniedError, BACKWARDS, END, EventStoreDBClient, FORWARDS, jsonEvent, MaxAppendSizeExceededError, START, StreamDeletedError,
  StreamNotFoundError, streamNameFilter, UnknownError, WrongExpectedVersionError, type ResolvedEvent,
} from '@eventstore/db-client';
import { credentials as grpcCredentials, Metadata, status, type ServiceError } from '@grpc/grpc-js';
import streamsGrpc from '@eventstore/db-client/generated/streams_grpc_pb.js';
import featuresGrpc from '@eventstore/db-client/generated/serverfeatures_grpc_pb.js';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { serverFeaturesPb } from '../../src/esdb-server/proto.js';
import { GoogleEmpty, sharedPb, streamsPb } from '../../src/esdb-server/proto.js';
import { batchAppendRequest, startEmbedded, type Embedded } from './support.js';

const json = (type: string, data: Record<string, unknown> = {}, id = randomUUID()) => jsonEvent({ id, type, data });
const unique = (name: string) => `${name}-${randomUUID().slice(0, 8)}`;
/** Per-call credentials make the client use Append instead of BatchAppend (appendToStream/index.js). */
const viaAppend = { credentials: { username: 'any', password: 'any' } };

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(() => expect.fail('expected a rejection'), (error: unknown) => error);
}

async function readAllOf<E>(iterable: AsyncIterable<E>): Promise<E[]> {
  const items: E[] = [];
  for await (const item of iterable) items.push(item);
  return items;
}

describe('embedded EventStoreDB server: protocol', () => {
  let embedded: Embedded;
  let client: EventStoreDBClient;
  let small: Embedded;
  let smallClient: EventStoreDBClient;

  beforeAll(async () => {
    embedded = await startEmbedded();
    client = EventStoreDBClient.connectionString(embedded.connectionString);
    small = await startEmbedded({ maxAppendSize: 1_000 });
    smallClient = EventStoreDBClient.connectionString(small.connectionString);
  });
  afterAll(async () => {
    await client.dispose();
    await smallClient.dispose();
    await embedded.stop();
    await small.stop();
  });

  describe('ServerFeatures.GetSupportedMethods', () => {
    const methodsOf = async (address: string) => {
      const raw = new featuresGrpc.ServerFeaturesClient(address, grpcCredentials.createInsecure());
      try {
        const result = await new Promise<InstanceType<typeof serverFeaturesPb.SupportedMethods>>((resolve, reject) =>
          raw.getSupportedMethods(new sharedPb.Empty(), (error, response) => (error ? reject(error) : resolve(response))));
        return result.getMethodsList().map((method) => `${method.getServiceName()}/${method.getMethodName()}`);
      } finally {
        raw.close();
      }
    };

    it('advertises exactly the implemented methods, BatchAppend only when served', async () => {
      expect(await methodsOf(embedded.server.address)).toEqual([
        'event_store.client.streams.streams/read',
        'event_store.client.streams.streams/append',
        'event_store.client.streams.streams/delete',
        'event_store.client.streams.streams/tombstone',
        'event_store.client.streams.streams/batchappend',
        ...['create', 'update', 'delete', 'read', 'getinfo', 'replayparked', 'list', 'restartsubsystem']
          .map((method) => `event_store.client.persistent_subscriptions.persistentsubscriptions/${method}`),
        'event_store.client.server_features.serverfeatures/getsupportedmethods',
      ]);
      const withoutBatch = await startEmbedded({ batchAppend: false });
      try {
        expect(await methodsOf(withoutBatch.server.address)).not.toContain('event_store.client.streams.streams/batchappend');
        // The client falls back to Append when BatchAppend is not advertised.
        const fallback = EventStoreDBClient.connectionString(withoutBatch.connectionString);
        const stream = unique('fallback');
        expect((await fallback.appendToStream(stream, [json('A'), json('B')])).nextExpectedRevision).toBe(1n);
        const wrong = await rejection(fallback.appendToStream(stream, json('C'), { expectedRevision: 5n }));
        expect(wrong).toBeInstanceOf(WrongExpectedVersionError);
        await fallback.dispose();
      } finally {
        await withoutBatch.stop();
      }
    });
  });

  describe.each([
    ['BatchAppend', {}],
    ['Append', viaAppend],
  ])('appends through %s', (_path, callOptions) => {
    it('applies the expected-revision rules: any, no_stream, stream_exists, exact', async () => {
      const stream = unique('rules');
      const noStream = await rejection(client.appendToStream(stream, json('A'), { ...callOptions, expectedRevision: 'stream_exists' }));
      expect(noStream).toBeInstanceOf(WrongExpectedVersionError);
      expect(noStream).toMatchObject({ streamName: stream, expectedVersion: 'stream_exists', actualVersion: 'no_stream' });
      const first = await client.appendToStream(stream, [json('A'), json('B')], { ...callOptions, expectedRevision: 'no_stream' });
      expect(first).toMatchObject({ success: true, nextExpectedRevision: 1n });
      expect(first.position?.commit).toBeGreaterThan(0n);
      const stale = await rejection(client.appendToStream(stream, json('C'), { ...callOptions, expectedRevision: 0n }));
      expect(stale).toMatchObject({ streamName: stream, expectedVersion: 0n, actualVersion: 1n });
      const exists = await rejection(client.appendToStream(stream, json('C'), { ...callOptions, expectedRevision: 'no_stream' }));
      expect(exists).toMatchObject({ expectedVersion: 'no_stream', actualVersion: 1n });
      expect((await client.appendToStream(stream, json('C'), { ...callOptions, expectedRevision: 1n })).nextExpectedRevision).toBe(2n);
      expect((await client.appendToStream(stream, json('D'), { ...callOptions, expectedRevision: 'stream_exists' })).nextExpectedRevision).toBe(3n);
      const next = await client.appendToStream(stream, json('E'), { ...callOptions, expectedRevision: 'any' });
      expect(next.nextExpectedRevision).toBe(4n);
      expect(next.position!.commit).toBeGreaterThan(first.position!.commit);
    });

    it('is idempotent: the same event ids at the same expected revision write nothing new', async () => {
      const stream = unique('idempotent');
      const batch = [json('A'), json('B'), json('C')];
      const original = await client.appendToStream(stream, batch, { ...callOptions, expectedRevision: 'no_stream' });
      const again = await client.appendToStream(stream, batch, { ...callOptions, expectedRevision: 'no_stream' });
      expect(again.nextExpectedRevision).toBe(original.nextExpectedRevision);
      expect(again.position).toEqual(original.position);
      const read = await readAllOf(client.readStream(stream));
      expect(read.map((one) => one.event?.id)).toEqual(batch.map((one) => one.id));
    });

    it('refuses appends to a tombstoned stream with stream-deleted', async () => {
      const stream = unique('tombstoned');
      await client.appendToStream(stream, json('A'), callOptions);
      await client.tombstoneStream(stream);
      const error = await rejection(client.appendToStream(stream, json('B'), callOptions));
      expect(error).toBeInstanceOf(StreamDeletedError);
      expect((error as StreamDeletedError).streamName).toBe(stream);
    });

    it('refuses an append over the maximum append size, writing nothing', async () => {
      const stream = unique('oversized');
      const error = await rejection(smallClient.appendToStream(stream, [json('Big', { blob: 'x'.repeat(600) }), json('Big', { blob: 'y'.repeat(600) })], callOptions));
      expect(error).toBeInstanceOf(MaxAppendSizeExceededError);
      expect((error as MaxAppendSizeExceededError).maxAppendSize).toBe(1_000);
      expect(await rejection(readAllOf(smallClient.readStream(stream)))).toBeInstanceOf(StreamNotFoundError);
      expect((await smallClient.appendToStream(stream, json('Small', { ok: true }), callOptions)).nextExpectedRevision).toBe(0n);
    });

    it('refuses a write to $all with access-denied, as EventStoreDB does, and writes nothing', async () => {
      const before = await readAllOf(client.readAll({ direction: BACKWARDS, fromPosition: END, maxCount: 1 }));
      expect(await rejection(client.appendToStream('$all', json('Forged'), callOptions))).toBeInstanceOf(AccessDeniedError);
      expect(await rejection(client.appendToStream('$all', json('Forged'), { ...callOptions, expectedRevision: 'no_stream' }))).toBeInstanceOf(AccessDeniedError);
      const after = await readAllOf(client.readAll({ direction: BACKWARDS, fromPosition: END, maxCount: 1 }));
      expect(after.map((one) => one.event?.id)).toEqual(before.map((one) => one.event?.id));
      expect(await rejection(readAllOf(client.readStream('$all')))).toBeInstanceOf(StreamNotFoundError);
    });

    it('rejects a malformed stream name with invalid-argument and keeps serving', async () => {
      // Append fails the call with INVALID_ARGUMENT; BatchAppend answers with a BadRequest status,
      // which the 6.x client surfaces as "Could not recognize <status message>" (unpackError.js):
      // the reason is in that message, so the user reads it either way.
      const expectInvalid = (error: unknown, reason: RegExp) => {
        expect(error).toBeInstanceOf(UnknownError);
        if (_path === 'Append') expect((error as UnknownError).code).toBe(status.INVALID_ARGUMENT);
        else expect((error as UnknownError).message).toMatch(/^Could not recognize BadRequest: /);
        expect((error as UnknownError).message).toMatch(reason);
      };
      expectInvalid(await rejection(client.appendToStream('', json('A'), callOptions)), /'' is not a valid stream name/);
      expectInvalid(await rejection(client.appendToStream('bad\u0000name', json('A'), callOptions)), /must not contain a NUL character/);
      expectInvalid(await rejection(client.appendToStream('x'.repeat(1001), json('A'), callOptions)), /1001 characters long; the maximum is 1000/);
      expect((await client.appendToStream(unique('after'), json('A'), callOptions)).nextExpectedRevision).toBe(0n);
    });
  });

  describe('reads', () => {
    it('refuses to delete or tombstone $all with access-denied, as EventStoreDB does', async () => {
      await client.appendToStream(unique('present'), json('A'));
      expect(await rejection(client.deleteStream('$all'))).toBeInstanceOf(AccessDeniedError);
      expect(await rejection(client.deleteStream('$all', { expectedRevision: 'any' }))).toBeInstanceOf(AccessDeniedError);
      expect(await rejection(client.tombstoneStream('$all'))).toBeInstanceOf(AccessDeniedError);
      expect(await rejection(client.tombstoneStream('$all', { expectedRevision: 'any' }))).toBeInstanceOf(AccessDeniedError);
      // The log is untouched: it still reads, and ordinary streams are still written.
      expect((await readAllOf(client.readAll({ maxCount: 1 }))).length).toBe(1);
      expect((await client.appendToStream(unique('after-all'), json('A'))).nextExpectedRevision).toBe(0n);
    });

    it('reports a missing stream as stream-not-found and a tombstoned one as stream-deleted', async () => {
      const missing = await rejection(readAllOf(client.readStream(unique('missing'))));
      expect(missing).toBeInstanceOf(StreamNotFoundError);
      const soft = unique('soft');
      await client.appendToStream(soft, [json('A'), json('B')]);
      await client.deleteStream(soft, { expectedRevision: 1n });
      expect(await rejection(readAllOf(client.readStream(soft)))).toBeInstanceOf(StreamNotFoundError);
      // Soft delete keeps numbering, and no_stream is accepted again.
      expect((await client.appendToStream(soft, json('C'), { expectedRevision: 'no_stream' })).nextExpectedRevision).toBe(2n);
      const hard = unique('hard');
      await client.appendToStream(hard, json('A'));
      await client.tombstoneStream(hard);
      const deleted = await rejection(readAllOf(client.readStream(hard)));
      expect(deleted).toBeInstanceOf(StreamDeletedError);
      expect((deleted as StreamDeletedError).streamName).toBe(hard);
    });

    it('returns wrong-expected-version on delete as an error with the expected and actual versions in the trailers', async () => {
      const stream = unique('delete-wev');
      await client.appendToStream(stream, [json('A'), json('B')]);
      const error = await rejection(client.deleteStream(stream, { expectedRevision: 0n }));
      expect(error).toBeInstanceOf(WrongExpectedVersionError);
      expect(error).toMatchObject({ streamName: stream, expectedVersion: 0n, actualVersion: 1n });
      const missing = await rejection(client.deleteStream(unique('gone'), { expectedRevision: 3n }));
      // Like EventStoreDB, the trailer carries the current version -1 for a stream that does not exist.
      expect(missing).toMatchObject({ expectedVersion: 3n, actualVersion: -1n });
    });

    it('reads a stream both ways from a revision with a count', async () => {
      const stream = unique('both-ways');
      await client.appendToStream(stream, Array.from({ length: 10 }, (_, index) => json('N', { index })));
      const revisions = (events: ResolvedEvent[]) => events.map((one) => one.event?.revision);
      expect(revisions(await readAllOf(client.readStream(stream, { fromRevision: 3n, maxCount: 2 })))).toEqual([3n, 4n]);
      expect(revisions(await readAllOf(client.readStream(stream, { direction: BACKWARDS, fromRevision: END, maxCount: 3 })))).toEqual([9n, 8n, 7n]);
      expect(revisions(await readAllOf(client.readStream(stream, { direction: BACKWARDS, fromRevision: 1n })))).toEqual([1n, 0n]);
    });

    it('reads $all forwards including the start position and backwards excluding it, positions increasing', async () => {
      const stream = unique('all');
      await client.appendToStream(stream, [json('One'), json('Two'), json('Three')]);
      const mine = (events: ResolvedEvent[]) => events.filter((one) => one.event?.streamId === stream);
      const all = mine(await readAllOf(client.readAll({ direction: FORWARDS, fromPosition: START })));
      expect(all.map((one) => one.event?.type)).toEqual(['One', 'Two', 'Three']);
      const positions = all.map((one) => one.event!.position!);
      expect(positions[0]!.commit < positions[1]!.commit && positions[1]!.commit < positions[2]!.commit).toBe(true);
      const fromSecond = mine(await readAllOf(client.readAll({ fromPosition: positions[1]!, maxCount: 10 })));
      expect(fromSecond.map((one) => one.event?.type)).toEqual(['Two', 'Three']);
      const beforeThird = mine(await readAllOf(client.readAll({ direction: BACKWARDS, fromPosition: positions[2]!, maxCount: 10 })));
      expect(beforeThird.map((one) => one.event?.type)).toEqual(['Two', 'One']);
    });

    it('maps stream metadata through $$<stream>', async () => {
      const stream = unique('meta');
      expect((await client.getStreamMetadata(stream)).metadata).toBeUndefined();
      await client.setStreamMetadata(stream, { maxCount: 3, owner: 'ops' });
      expect((await client.getStreamMetadata(stream)).metadata).toEqual({ maxCount: 3, owner: 'ops' });
      expect(await embedded.store.getStreamMetadata(stream)).toEqual({ maxCount: 3, custom: { owner: 'ops' } });
    });
  });

  describe('catch-up subscriptions', () => {
    it('sends a confirmation, the history, caughtUp, then live events', async () => {
      const stream = unique('sub');
      await client.appendToStream(stream, [json('A'), json('B')]);
      const subscription = client.subscribeToStream(stream, { fromRevision: START });
      const seen: string[] = [];
      subscription.on('confirmation', () => seen.push('confirmation'));
      subscription.on('caughtUp', () => {
        seen.push('caughtUp');
        void client.appendToStream(stream, json('Live'));
      });
      for await (const resolved of subscription) {
        seen.push(resolved.event!.type);
        if (resolved.event!.type === 'Live') break;
      }
      await subscription.unsubscribe();
      expect(seen).toEqual(['confirmation', 'A', 'B', 'caughtUp', 'Live']);
    });

    it('checkpoints a filtered $all subscription every multiplier x window considered events', async () => {
      const head = (await readAllOf(client.readAll({ direction: BACKWARDS, fromPosition: END, maxCount: 1 })))[0]!.event!.position!;
      const noise = unique('noise');
      await client.appendToStream(noise, Array.from({ length: 12 }, () => json('Noise')));
      const checkpoints: bigint[] = [];
      const subscription = client.subscribeToAll({
        fromPosition: head,
        filter: streamNameFilter({ prefixes: [unique('nothing')], maxSearchWindow: 2, checkpointInterval: 2, checkpointReached: (_s, position) => void checkpoints.push(position.commit) }),
      });
      await new Promise<void>((resolve) => subscription.on('caughtUp', () => resolve()));
      await subscription.unsubscribe();
      const noisePositions = (await readAllOf(client.readStream(noise))).map((one) => one.event!.position!.commit);
      // 12 considered events, interval 2 x 2 = 4: after the 4th, 8th and 12th.
      expect(checkpoints).toEqual([noisePositions[3], noisePositions[7], noisePositions[11]]);
    });
  });

  describe('malformed requests on the wire', () => {
    let raw: InstanceType<typeof streamsGrpc.StreamsClient>;
    beforeAll(() => {
      raw = new streamsGrpc.StreamsClient(embedded.server.address, grpcCredentials.createInsecure());
    });
    afterAll(() => raw.close());

    const readStatus = (request: InstanceType<typeof streamsPb.ReadReq>) =>
      new Promise<ServiceError | undefined>((resolve) => {
        const call = raw.read(request, new Metadata());
        call.on('data', () => undefined);
        call.on('error', (error: ServiceError) => resolve(error));
        call.on('end', () => resolve(undefined));
      });

    it('answers a read without options, and an append without its options first, with an error status', async () => {
      expect((await readStatus(new streamsPb.ReadReq()))?.code).toBe(status.INVALID_ARGUMENT);
      const appendError = await new Promise<ServiceError | null>((resolve) => {
        const call = raw.append(new Metadata(), (error) => resolve(error));
        const request = new streamsPb.AppendReq();
        request.setProposedMessage(new streamsPb.AppendReq.ProposedMessage());
        call.write(request);
        call.end();
      });
      expect(appendError?.code).toBe(status.INVALID_ARGUMENT);
    });

    it('survives a barrage of malformed requests, answering each with an error', async () => {
      const options = new streamsPb.ReadReq.Options();
      options.setStream(new streamsPb.ReadReq.Options.StreamOptions());
      options.setCount('10');
      const noIdentifier = new streamsPb.ReadReq();
      noIdentifier.setOptions(options);
      expect((await readStatus(noIdentifier))?.code).toBe(status.INVALID_ARGUMENT);

      const filterOptions = new streamsPb.ReadReq.Options();
      const all = new streamsPb.ReadReq.Options.AllOptions();
      all.setStart(new sharedPb.Empty());
      filterOptions.setAll(all);
      filterOptions.setSubscription(new streamsPb.ReadReq.Options.SubscriptionOptions());
      const badFilter = new streamsPb.ReadReq.Options.FilterOptions();
      const badRegex = new streamsPb.ReadReq.Options.FilterOptions.Expression();
      badRegex.setRegex('(');
      badFilter.setStreamIdentifier(badRegex);
      badFilter.setCheckpointintervalmultiplier(1);
      filterOptions.setFilter(badFilter);
      const badSubscription = new streamsPb.ReadReq();
      badSubscription.setOptions(filterOptions);
      expect((await readStatus(badSubscription))?.code).toBe(status.INVALID_ARGUMENT);

      const deleteError = await new Promise<ServiceError | null>((resolve) => raw.delete(new streamsPb.DeleteReq(), (error) => resolve(error)));
      expect(deleteError?.code).toBe(status.INVALID_ARGUMENT);
      const tombstoneError = await new Promise<ServiceError | null>((resolve) => raw.tombstone(new streamsPb.TombstoneReq(), (error) => resolve(error)));
      expect(tombstoneError?.code).toBe(status.INVALID_ARGUMENT);

      const batchErrors = await new Promise<number[]>((resolve, reject) => {
        const codes: number[] = [];
        const call = raw.batchAppend(new Metadata());
        call.on('data', (message: InstanceType<typeof streamsPb.BatchAppendResp>) => {
          codes.push(message.getError()?.getCode() ?? -1);
          if (codes.length === 2) call.end();
        });
        call.on('end', () => resolve(codes));
        call.on('error', reject);
        const missingStream = new streamsPb.BatchAppendReq();
        missingStream.setOptions(new streamsPb.BatchAppendReq.Options());
        missingStream.setIsFinal(true);
        call.write(missingStream);
        const badId = new streamsPb.BatchAppendReq();
        const batchOptions = new streamsPb.BatchAppendReq.Options();
        const identifier = new sharedPb.StreamIdentifier();
        identifier.setStreamName(Buffer.from(unique('bad-id')));
        batchOptions.setStreamIdentifier(identifier);
        batchOptions.setAny(new GoogleEmpty());
        badId.setOptions(batchOptions);
        const proposed = new streamsPb.BatchAppendReq.ProposedMessage();
        const id = new sharedPb.UUID();
        id.setString('not-a-uuid');
        proposed.setId(id);
        proposed.getMetadataMap().set('type', 'X').set('content-type', 'application/json');
        badId.addProposedMessages(proposed);
        badId.setIsFinal(true);
        call.write(badId);
      });
      expect(batchErrors).toEqual([status.INVALID_ARGUMENT, status.INVALID_ARGUMENT]);

      expect((await client.appendToStream(unique('still-serving'), json('A'))).nextExpectedRevision).toBe(0n);
    });

    it('answers event ids as a string or structured, in the form the read asked for (esdb-compatibility.md, "UUIDs")', async () => {
      const stream = unique('uuid-forms');
      const id = randomUUID();
      await client.appendToStream(stream, json('A', {}, id));
      const idOf = (structured: boolean) => new Promise<InstanceType<typeof sharedPb.UUID>>((resolve, reject) => {
        const options = new streamsPb.ReadReq.Options();
        const streamOptions = new streamsPb.ReadReq.Options.StreamOptions();
        const identifier = new sharedPb.StreamIdentifier();
        identifier.setStreamName(Buffer.from(stream));
        streamOptions.setStreamIdentifier(identifier);
        streamOptions.setStart(new sharedPb.Empty());
        options.setStream(streamOptions);
        options.setReadDirection(streamsPb.ReadReq.Options.ReadDirection.FORWARDS);
        options.setCount('1');
        options.setNoFilter(new sharedPb.Empty());
        const uuidOption = new streamsPb.ReadReq.Options.UUIDOption();
        if (structured) uuidOption.setStructured(new sharedPb.Empty());
        else uuidOption.setString(new sharedPb.Empty());
        options.setUuidOption(uuidOption);
        const request = new streamsPb.ReadReq();
        request.setOptions(options);
        const call = raw.read(request, new Metadata());
        call.on('data', (message: InstanceType<typeof streamsPb.ReadResp>) => {
          const eventId = message.getEvent()?.getEvent()?.getId();
          if (eventId) resolve(eventId);
        });
        call.on('error', reject);
        call.on('end', () => reject(new Error('the read ended without an event')));
      });
      expect((await idOf(false)).getString()).toBe(id);
      const structured = (await idOf(true)).getStructured();
      expect(structured).toBeDefined();
      // The two 64-bit halves (signed, as decimal text), put back together by hand.
      const hex = [structured!.getMostSignificantBits(), structured!.getLeastSignificantBits()].map((half) => BigInt.asUintN(64, BigInt(half)).toString(16).padStart(16, '0')).join('');
      expect(`${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`).toBe(id);
    });

    it('refuses data that is not JSON under application/json with invalid-argument and writes nothing (esdb-compatibility.md, "JSON event data")', async () => {
      const stream = unique('not-json');
      const code = await new Promise<number>((resolve, reject) => {
        const call = raw.batchAppend(new Metadata());
        call.on('data', (message: InstanceType<typeof streamsPb.BatchAppendResp>) => {
          resolve(message.getError()?.getCode() ?? -1);
          call.end();
        });
        call.on('error', reject);
        call.write(batchAppendRequest({ options: { stream, expected: 'any' }, data: '{"unterminated": ', final: true }));
      });
      expect(code).toBe(status.INVALID_ARGUMENT);
      expect(await rejection(readAllOf(client.readStream(stream)))).toBeInstanceOf(StreamNotFoundError);
    });

    it('answers a BatchAppend wrong expected version with a google.rpc.Status whose details pack WrongExpectedVersion', async () => {
      const stream = unique('raw-batch');
      await client.appendToStream(stream, json('A'));
      const response = await new Promise<InstanceType<typeof streamsPb.BatchAppendResp>>((resolve, reject) => {
        const call = raw.batchAppend(new Metadata());
        call.on('data', (message: InstanceType<typeof streamsPb.BatchAppendResp>) => {
          resolve(message);
          call.end();
        });
        call.on('error', reject);
        call.write(batchAppendRequest({ correlationId: randomUUID(), options: { stream, expected: 7n }, final: true }));
      });
      const error = response.getError();
      expect(error?.getCode()).toBe(status.ALREADY_EXISTS);
      const details = error?.getDetails()?.unpack(sharedPb.WrongExpectedVersion.deserializeBinary, 'event_store.client.WrongExpectedVersion');
      expect(details?.getCurrentStreamRevision()).toBe('0');
      expect(details?.getExpectedStreamPosition()).toBe('7');
    });

    it('answers an event without a type with missing-required-metadata-property', async () => {
      const error = await new Promise<ServiceError | null>((resolve) => {
        const call = raw.append(new Metadata(), (failure) => resolve(failure));
        const options = new streamsPb.AppendReq.Options();
        const identifier = new sharedPb.StreamIdentifier();
        identifier.setStreamName(Buffer.from(unique('no-type')));
        options.setStreamIdentifier(identifier);
        options.setAny(new sharedPb.Empty());
        const first = new streamsPb.AppendReq();
        first.setOptions(options);
        call.write(first);
        const proposed = new streamsPb.AppendReq.ProposedMessage();
        const id = new sharedPb.UUID();
        id.setString(randomUUID());
        proposed.setId(id);
        const second = new streamsPb.AppendReq();
        second.setProposedMessage(proposed);
        call.write(second);
        call.end();
      });
      expect(error?.code).toBe(status.INVALID_ARGUMENT);
      expect(error?.metadata.get('exception')).toEqual(['missing-required-metadata-property']);
    });
  });
});

describe('openEsdbStore', () => {
  it('rejects a malformed connection string with InvalidArgumentError', async () => {
    const { openEsdbStore } = await import('../../src/store/esdb.js');
    const { InvalidArgumentError } = await import('../../src/store/errors.js');
    await expect(openEsdbStore('esdb://')).rejects.toBeInstanceOf(InvalidArgumentError);
  });
});
