/**
 * The PersistentSubscriptions service of the embedded server, through the real @eventstore/db-client
 * (not our adapter): each RPC, the settings as the client reads them back, and each error as the
 * client classifies it (EventStoreDB's status codes and `exception` trailers).
 */
import {
  END, jsonEvent, PersistentSubscriptionDoesNotExistError, PersistentSubscriptionDroppedError,
  PersistentSubscriptionExistsError, PersistentSubscriptionFailedError, PersistentSubscriptionMaximumSubscribersReachedError,
  persistentSubscriptionToAllSettingsFromDefaults, persistentSubscriptionToStreamSettingsFromDefaults, PINNED, START,
  streamNameFilter, type PersistentSubscriptionToStream,
} from '@eventstore/db-client';
import featuresGrpc from '@eventstore/db-client/generated/serverfeatures_grpc_pb.js';
import { credentials as grpcCredentials } from '@grpc/grpc-js';
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { serverFeaturesPb } from '../../src/esdb-server/proto.js';
import { sharedPb } from '../../src/esdb-server/proto.js';
import { waitFor } from '../support/wait-for.js';
import { embeddedWithClient } from './support.js';

const unique = (name: string) => `${name}-${randomUUID().slice(0, 8)}`;
const events = (count: number) => Array.from({ length: count }, (_, index) => jsonEvent({ id: randomUUID(), type: 'Counted', data: { index } }));

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(() => expect.fail('expected a rejection'), (error: unknown) => error);
}

/** The first error a subscription emits. */
function errorOf(subscription: NodeJS.EventEmitter): Promise<unknown> {
  return new Promise((resolve) => subscription.once('error', resolve));
}

describe('embedded EventStoreDB server: PersistentSubscriptions through the real client', () => {
  const served = embeddedWithClient();

  it('advertises every method with the stream and all features, so the client allows groups on $all', async () => {
    const raw = new featuresGrpc.ServerFeaturesClient(served.embedded.server.address, grpcCredentials.createInsecure());
    try {
      const result = await new Promise<InstanceType<typeof serverFeaturesPb.SupportedMethods>>((resolve, reject) =>
        raw.getSupportedMethods(new sharedPb.Empty(), (error, response) => (error ? reject(error) : resolve(response))));
      const create = result.getMethodsList().find((method) => method.getServiceName().endsWith('persistentsubscriptions') && method.getMethodName() === 'create');
      expect(create?.getFeaturesList()).toEqual(['stream', 'all']);
    } finally {
      raw.close();
    }
  });

  it('Create, GetInfo and List return the settings as given, on a stream and on $all', async () => {
    const stream = unique('proto-create');
    const streamSettings = persistentSubscriptionToStreamSettingsFromDefaults({ startFrom: 2n, maxRetryCount: 12, consumerStrategyName: PINNED, extraStatistics: true });
    await served.client.createPersistentSubscriptionToStream(stream, 'g', streamSettings);
    const info = await served.client.getPersistentSubscriptionToStreamInfo(stream, 'g');
    expect(info).toMatchObject({ eventSource: stream, groupName: 'g', settings: streamSettings });
    expect((await served.client.listPersistentSubscriptionsToStream(stream)).map((entry) => entry.settings)).toEqual([streamSettings]);

    const group = unique('all-group');
    const allSettings = persistentSubscriptionToAllSettingsFromDefaults({ startFrom: START, messageTimeout: 5_000 });
    await served.client.createPersistentSubscriptionToAll(group, allSettings, { filter: streamNameFilter({ prefixes: [stream] }) });
    const allInfo = await served.client.getPersistentSubscriptionToAllInfo(group);
    expect(allInfo).toMatchObject({ eventSource: '$all', groupName: group, settings: allSettings });
    expect((await served.client.listPersistentSubscriptionsToAll()).map((entry) => entry.groupName)).toContain(group);
    expect((await served.client.listAllPersistentSubscriptions()).map((entry) => entry.groupName)).toEqual(expect.arrayContaining(['g', group]));
  });

  it('errors: exists, does not exist (each RPC), failed for bad settings', async () => {
    const stream = unique('proto-errors');
    const settings = persistentSubscriptionToStreamSettingsFromDefaults();
    await served.client.createPersistentSubscriptionToStream(stream, 'g', settings);
    const exists = await rejection(served.client.createPersistentSubscriptionToStream(stream, 'g', settings));
    expect(exists).toBeInstanceOf(PersistentSubscriptionExistsError);
    expect(exists).toMatchObject({ streamName: stream, groupName: 'g' });

    for (const call of [
      () => served.client.getPersistentSubscriptionToStreamInfo(stream, 'missing'),
      () => served.client.updatePersistentSubscriptionToStream(stream, 'missing', settings),
      () => served.client.deletePersistentSubscriptionToStream(stream, 'missing'),
      () => served.client.replayParkedMessagesToStream(stream, 'missing'),
      () => served.client.deletePersistentSubscriptionToAll('missing'),
    ]) {
      expect(await rejection(call())).toBeInstanceOf(PersistentSubscriptionDoesNotExistError);
    }
    const noGroups = unique('no-groups');
    const listError = await rejection(served.client.listPersistentSubscriptionsToStream(noGroups));
    expect(listError).toBeInstanceOf(PersistentSubscriptionDoesNotExistError);
    expect((listError as Error).message).toBe(`5 NOT_FOUND: Subscription group  on stream ${noGroups} does not exist.`);

    const failed = await rejection(served.client.createPersistentSubscriptionToStream(stream, 'bad',
      persistentSubscriptionToStreamSettingsFromDefaults({ readBatchSize: 500, historyBufferSize: 500 })));
    expect(failed).toBeInstanceOf(PersistentSubscriptionFailedError);
    expect((failed as PersistentSubscriptionFailedError).reason).toMatch(/readBatchSize/);
  });

  it('GetInfo reports each connection, with ack latencies when extra statistics are on', async () => {
    const stream = unique('proto-stats');
    await served.client.appendToStream(stream, events(3));
    await served.client.createPersistentSubscriptionToStream(stream, 'g', persistentSubscriptionToStreamSettingsFromDefaults({ startFrom: START, extraStatistics: true }));
    const subscription = served.client.subscribeToPersistentSubscriptionToStream(stream, 'g');
    let acked = 0;
    subscription.on('data', (event) => void subscription.ack(event).then(() => acked++));
    await waitFor(async () => acked === 3 && (await served.client.getPersistentSubscriptionToStreamInfo(stream, 'g')).connections[0]?.extraStatistics !== undefined, { what: 'three acks measured' });
    const [connection] = (await served.client.getPersistentSubscriptionToStreamInfo(stream, 'g')).connections;
    expect(connection).toMatchObject({ connectionName: served.client.connectionName, totalItems: 3n });
    expect(connection!.extraStatistics!.get('quintile 3')).toBeTypeOf('bigint');
    await subscription.unsubscribe();
  });

  it('Read: confirmation, events with retry counts, ack, nack retry / park, ReplayParked', async () => {
    const stream = unique('proto-read');
    await served.client.appendToStream(stream, events(2));
    await served.client.createPersistentSubscriptionToStream(stream, 'g', persistentSubscriptionToStreamSettingsFromDefaults({ startFrom: START }));
    const subscription = served.client.subscribeToPersistentSubscriptionToStream(stream, 'g');
    const seen: { revision: bigint; retryCount: number }[] = [];
    const confirmed = new Promise<void>((resolve) => subscription.once('confirmation', resolve));
    subscription.on('data', (event) => {
      seen.push({ revision: event.event!.revision, retryCount: event.retryCount });
      const first = seen.filter((entry) => entry.revision === event.event!.revision).length === 1;
      if (event.event!.revision === 0n && first) void subscription.nack('retry', 'again', event);
      else if (event.event!.revision === 1n) void subscription.nack('park', 'poison', event);
      else void subscription.ack(event);
    });
    await confirmed;
    await waitFor(() => seen.length >= 3, { what: 'two events and one retry' });
    expect(seen).toEqual(expect.arrayContaining([{ revision: 0n, retryCount: 0 }, { revision: 0n, retryCount: 1 }, { revision: 1n, retryCount: 0 }]));
    await waitFor(async () => (await served.client.getPersistentSubscriptionToStreamInfo(stream, 'g')).stats.parkedMessageCount === 1n, { what: 'one parked event' });

    await served.client.replayParkedMessagesToStream(stream, 'g');
    await waitFor(() => seen.filter((entry) => entry.revision === 1n).length === 2, { what: 'the parked event sent again' });
    await subscription.unsubscribe();
  });

  it('Read errors: a missing group, too many consumers; deleted and updated groups end their consumers', async () => {
    const stream = unique('proto-read-errors');
    const missing = served.client.subscribeToPersistentSubscriptionToStream(stream, 'missing');
    expect(await errorOf(missing)).toBeInstanceOf(PersistentSubscriptionDoesNotExistError);

    await served.client.createPersistentSubscriptionToStream(stream, 'one', persistentSubscriptionToStreamSettingsFromDefaults({ maxSubscriberCount: 1 }));
    const first = served.client.subscribeToPersistentSubscriptionToStream(stream, 'one');
    await new Promise<void>((resolve) => first.once('confirmation', resolve));
    const second = served.client.subscribeToPersistentSubscriptionToStream(stream, 'one');
    expect(await errorOf(second)).toBeInstanceOf(PersistentSubscriptionMaximumSubscribersReachedError);

    const updated = errorOf(first);
    await served.client.updatePersistentSubscriptionToStream(stream, 'one', persistentSubscriptionToStreamSettingsFromDefaults({ startFrom: END, maxSubscriberCount: 1 }));
    expect(await updated).toBeInstanceOf(PersistentSubscriptionDroppedError);

    const again: PersistentSubscriptionToStream = served.client.subscribeToPersistentSubscriptionToStream(stream, 'one');
    await new Promise<void>((resolve) => again.once('confirmation', resolve));
    const deleted = errorOf(again);
    await served.client.deletePersistentSubscriptionToStream(stream, 'one');
    expect(await deleted).toBeInstanceOf(PersistentSubscriptionDoesNotExistError);
  });

  it('RestartSubsystem drops every consumer; they reconnect and resume', async () => {
    const stream = unique('proto-restart');
    await served.client.createPersistentSubscriptionToStream(stream, 'g', persistentSubscriptionToStreamSettingsFromDefaults({ startFrom: START }));
    const subscription = served.client.subscribeToPersistentSubscriptionToStream(stream, 'g');
    await new Promise<void>((resolve) => subscription.once('confirmation', resolve));
    const dropped = errorOf(subscription);
    await served.client.restartPersistentSubscriptionSubsystem();
    expect(await dropped).toBeInstanceOf(PersistentSubscriptionDroppedError);

    await served.client.appendToStream(stream, events(1));
    const resumed = served.client.subscribeToPersistentSubscriptionToStream(stream, 'g');
    const [event] = await new Promise<[{ event?: { revision: bigint } }]>((resolve) => resumed.once('data', (received) => resolve([received])));
    expect(event.event?.revision).toBe(0n);
    await resumed.unsubscribe();
  });
});
