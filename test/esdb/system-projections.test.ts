/**
 * The system projections ($by_category, $by_event_type, $streams, $stream_by_category) through the
 * real client: link events written behind the commit, read and subscribed with and without
 * resolveLinkTos, and no link lost or doubled when the follower starts again over the same store.
 */
import { EventStoreDBClient, jsonEvent, type ResolvedEvent } from '@eventstore/db-client';
import { afterEach, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/open.js';
import type { EventStore } from '../../src/store/port.js';
import { startEmbedded, type Embedded } from './support.js';

/** The first `count` events a catch-up subscription delivers (it waits for the follower to write them). */
async function firstOf(client: EventStoreDBClient, stream: string, count: number, resolveLinkTos = true): Promise<ResolvedEvent[]> {
  const subscription = client.subscribeToStream(stream, { resolveLinkTos });
  const events: ResolvedEvent[] = [];
  try {
    for await (const resolved of subscription) {
      events.push(resolved);
      if (events.length === count) break;
    }
  } finally {
    await subscription.unsubscribe();
  }
  return events;
}

const described = (events: readonly ResolvedEvent[]) => events.map(({ event, link }) => `${event?.streamId}/${event?.revision}:${event?.type} via ${link?.streamId}/${link?.revision}`);

describe('embedded EventStoreDB server: system projections', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  const serve = async (store: EventStore) => {
    const embedded: Embedded = await startEmbedded({ systemProjections: true }, store);
    const client = EventStoreDBClient.connectionString(embedded.connectionString);
    const stop = async () => {
      await client.dispose();
      await embedded.server.close();
    };
    cleanups.push(stop);
    return { client, stop };
  };

  it('links every event by category and by type, and every stream\'s first event into $streams and $category-', async () => {
    const store = await openStore('memory:');
    cleanups.push(() => store.close());
    const { client } = await serve(store);
    await client.appendToStream('order-1', [jsonEvent({ type: 'Placed', data: { n: 1 } }), jsonEvent({ type: 'Paid', data: {} })]);
    await client.appendToStream('order-2', jsonEvent({ type: 'Placed', data: { n: 2 } }));
    await client.appendToStream('nocategory', jsonEvent({ type: 'Placed', data: { n: 3 } }));

    expect(described(await firstOf(client, '$ce-order', 3))).toEqual([
      'order-1/0:Placed via $ce-order/0', 'order-1/1:Paid via $ce-order/1', 'order-2/0:Placed via $ce-order/2',
    ]);
    expect(described(await firstOf(client, '$et-Placed', 3))).toEqual([
      'order-1/0:Placed via $et-Placed/0', 'order-2/0:Placed via $et-Placed/1', 'nocategory/0:Placed via $et-Placed/2',
    ]);
    expect(described(await firstOf(client, '$streams', 3))).toEqual([
      'order-1/0:Placed via $streams/0', 'order-2/0:Placed via $streams/1', 'nocategory/0:Placed via $streams/2',
    ]);
    expect(described(await firstOf(client, '$category-order', 2))).toEqual([
      'order-1/0:Placed via $category-order/0', 'order-2/0:Placed via $category-order/1',
    ]);
    // Without resolveLinkTos the links are what is read: binary `$>` events, `<revision>@<stream>`.
    const links = [];
    for await (const resolved of client.readStream('$ce-order')) links.push(resolved);
    expect(links.map(({ event, link }) => [event?.type, event?.isJson, Buffer.from(event?.data as Uint8Array).toString(), link])).toEqual([
      ['$>', false, '0@order-1', undefined], ['$>', false, '1@order-1', undefined], ['$>', false, '0@order-2', undefined],
    ]);
    expect(links[0]?.event?.metadata).toMatchObject({ $o: 'order-1' });
  });

  it('resumes after a restart over the same store with no link lost or written twice', async () => {
    const store = await openStore('memory:');
    cleanups.push(() => store.close());
    const first = await serve(store);
    await first.client.appendToStream('order-1', [jsonEvent({ type: 'Placed', data: {} }), jsonEvent({ type: 'Paid', data: {} })]);
    await firstOf(first.client, '$ce-order', 2);
    await first.stop();

    const second = await serve(store);
    await second.client.appendToStream('order-2', jsonEvent({ type: 'Placed', data: {} }));
    expect(described(await firstOf(second.client, '$ce-order', 3))).toEqual([
      'order-1/0:Placed via $ce-order/0', 'order-1/1:Paid via $ce-order/1', 'order-2/0:Placed via $ce-order/2',
    ]);
    // The newest link is the last one: order-2's links were written after it, nothing before it again.
    await firstOf(second.client, '$category-order', 2);
    const revisions = [];
    for await (const resolved of second.client.readStream('$ce-order')) revisions.push(resolved.event?.revision);
    expect(revisions).toEqual([0n, 1n, 2n]);
  });
});
