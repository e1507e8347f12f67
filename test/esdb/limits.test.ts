/**
 * Shutdown and limits as EventStoreDB has them: an append in flight when the server shuts down ends
 * UNAVAILABLE through Append and CANCELLED through BatchAppend (the official client's
 * extra/write-after-end expects each; the client reconnects after both), and BatchAppend deadlines are enforced
 * (Streams.BatchAppend.cs): a deadline already past is answered Timeout at once, and an append whose
 * final request has not arrived by its deadline is answered Timeout and dropped.
 */
import { CancelledError, DeadlineExceededError, EventStoreDBClient, jsonEvent, UnavailableError } from '@eventstore/db-client';
import streamsGrpc from '@eventstore/db-client/generated/streams_grpc_pb.js';
import { credentials as grpcCredentials, Metadata, status } from '@grpc/grpc-js';
import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import type { streamsPb } from '../../src/esdb-server/proto.js';
import { StreamNotFoundError } from '../../src/store/errors.js';
import { openStore } from '../../src/store/open.js';
import type { EventStore } from '../../src/store/port.js';
import { batchAppendRequest, startEmbedded, type Embedded } from './support.js';

/** Per-call credentials make the client use Append instead of BatchAppend (appendToStream/index.js). */
const viaAppend = { credentials: { username: 'any', password: 'any' } };

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(() => expect.fail('expected a rejection'), (error: unknown) => error);
}

/** A real memory store whose appends wait at a gate, so that an append is surely in flight. */
async function gatedStore(): Promise<{ store: EventStore; reached: Promise<void>; open: () => void }> {
  const store = await openStore('memory:');
  let reached!: () => void;
  let open!: () => void;
  const reachedPromise = new Promise<void>((resolve) => (reached = resolve));
  const gate = new Promise<void>((resolve) => (open = resolve));
  const append: EventStore['append'] = async (...args) => {
    reached();
    await gate;
    return store.append(...args);
  };
  return { store: Object.assign(Object.create(store) as EventStore, { append }), reached: reachedPromise, open };
}

describe('embedded EventStoreDB server: shutdown and limits', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  describe.each([['BatchAppend', {}, CancelledError], ['Append', viaAppend, UnavailableError]] as const)('an append in flight at shutdown, through %s', (_path, callOptions, expected) => {
    it(`ends ${expected.name === 'CancelledError' ? 'CANCELLED' : 'UNAVAILABLE'}, as EventStoreDB ends it`, async () => {
      const gated = await gatedStore();
      const embedded = await startEmbedded({}, gated.store);
      const client = EventStoreDBClient.connectionString(embedded.connectionString);
      cleanups.push(async () => {
        await client.dispose();
        gated.open();
        await embedded.store.close();
      });
      const appending = rejection(client.appendToStream(`shutdown-${randomUUID()}`, jsonEvent({ type: 'A', data: {} }), callOptions));
      await gated.reached;
      await embedded.server.close();
      expect(await appending).toBeInstanceOf(expected);
    });
  });

  describe('BatchAppend deadlines', () => {
    let embedded: Embedded;
    const start = async (options: { writeTimeoutMs?: number } = {}) => {
      embedded = await startEmbedded(options);
      cleanups.push(() => embedded.stop());
      return embedded;
    };

    it('answers an append whose deadline has passed with Timeout, which the client raises as DeadlineExceededError', async () => {
      await start();
      const client = EventStoreDBClient.connectionString(embedded.connectionString);
      cleanups.push(() => client.dispose());
      const stream = `late-${randomUUID()}`;
      expect(await rejection(client.appendToStream(stream, jsonEvent({ type: 'A', data: {} }), { deadline: 0 }))).toBeInstanceOf(DeadlineExceededError);
      await expect(readAll(embedded.store, stream)).rejects.toBeInstanceOf(StreamNotFoundError);
      // The call goes on serving appends that are in time.
      expect((await client.appendToStream(stream, jsonEvent({ type: 'A', data: {} }))).nextExpectedRevision).toBe(0n);
    });

    it('times out an append still waiting for its final request, capped by the write timeout, and drops its later requests', async () => {
      await start({ writeTimeoutMs: 50 });
      const raw = new streamsGrpc.StreamsClient(embedded.server.address, grpcCredentials.createInsecure());
      cleanups.push(async () => raw.close());
      const call = raw.batchAppend(new Metadata());
      const responses: InstanceType<typeof streamsPb.BatchAppendResp>[] = [];
      const waiters: (() => void)[] = [];
      call.on('data', (response: InstanceType<typeof streamsPb.BatchAppendResp>) => {
        responses.push(response);
        waiters.shift()?.();
      });
      const nextResponse = () => new Promise<void>((resolve) => waiters.push(resolve));

      const slow = `slow-${randomUUID()}`;
      const slowId = randomUUID();
      // A deadline an hour away: the server's 50 ms write timeout is what applies.
      const firstResponse = nextResponse();
      call.write(batchAppendRequest({ correlationId: slowId, options: { stream: slow, expected: 'any', deadline: new Date(Date.now() + 3_600_000) }, final: false }));
      await firstResponse;
      expect(responses[0]?.getError()?.getCode()).toBe(status.DEADLINE_EXCEEDED);
      expect(responses[0]?.getError()?.getDetails()?.getTypeName()).toBe('event_store.client.Timeout');
      expect(Buffer.from(responses[0]?.getStreamIdentifier()?.getStreamName_asU8() ?? []).toString()).toBe(slow);

      // Its final request comes too late: dropped. An append after it is answered, and only it.
      call.write(batchAppendRequest({ correlationId: slowId, final: true }));
      const other = `in-time-${randomUUID()}`;
      const secondResponse = nextResponse();
      call.write(batchAppendRequest({ correlationId: randomUUID(), options: { stream: other, expected: 'any', deadline: new Date(Date.now() + 3_600_000) }, final: true }));
      await secondResponse;
      expect(responses).toHaveLength(2);
      expect(responses[1]?.hasSuccess()).toBe(true);
      const ended = new Promise((resolve) => call.on('status', resolve));
      call.end();
      await ended;
      await expect(readAll(embedded.store, slow)).rejects.toBeInstanceOf(StreamNotFoundError);
      expect(await readAll(embedded.store, other)).toHaveLength(1);
    });
  });
});

async function readAll(store: EventStore, stream: string) {
  const events = [];
  for await (const event of store.readStream(stream)) events.push(event);
  return events;
}
