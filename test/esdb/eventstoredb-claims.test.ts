/**
 * docs/eventstoredb.md, "What the adapter guarantees" and `cadenza store serve`, through the real
 * @eventstore/db-client over gRPC to the embedded server: unfiltered `$all` reads and subscriptions
 * leave out EventStoreDB's own `$` events (here the served system projections' links, which the
 * official client does read), and an append over the server's limit (1 MiB by default, as
 * EventStoreDB) is `MaximumAppendSizeExceededError`, with nothing written.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { MaximumAppendSizeExceededError, StreamNotFoundError } from '../../src/store/errors.js';
import { openEsdbStore } from '../../src/store/esdb.js';
import type { EventStore, RecordedEvent } from '../../src/store/port.js';
import { event } from '../store/contract/helpers.js';
import { waitFor } from '../support/wait-for.js';
import { clientFor, startEmbedded } from './support.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const all: T[] = [];
  for await (const item of items) all.push(item);
  return all;
}

/** Events of an unfiltered `$all` subscription from the start, up to its caught-up message. */
async function subscribedUntilLive(store: EventStore): Promise<RecordedEvent[]> {
  const subscription = store.subscribeToAll();
  const events: RecordedEvent[] = [];
  for await (const message of subscription) {
    if (message.kind === 'event') events.push(message.event);
    if (message.kind === 'caughtUp') break;
  }
  await subscription.unsubscribe();
  return events;
}

describe('docs/eventstoredb.md: what the adapter guarantees', () => {
  it("leaves EventStoreDB's own $ events out of unfiltered $all reads and subscriptions", async () => {
    const embedded = await startEmbedded({ systemProjections: true });
    cleanups.push(() => embedded.stop());
    const store = await openEsdbStore(embedded.connectionString);
    cleanups.push(() => store.close());
    const client = clientFor(embedded);
    cleanups.push(() => client.dispose());
    await store.append('order-1', [event('Placed'), event('Paid')]);
    await store.append('order-2', [event('Placed')]);

    // The server has written its links: the official client reads them in $all.
    const systemTypes = async () => (await collect(client.readAll())).flatMap((resolved) => (resolved.event?.type.startsWith('$') ? [resolved.event.type] : []));
    await waitFor(async () => (await systemTypes()).includes('$>'), { what: 'the served system projections to link the events' });

    const mine = ['order-1/0:Placed', 'order-1/1:Paid', 'order-2/0:Placed'];
    const described = (events: RecordedEvent[]) => events.map((e) => `${e.stream}/${e.revision}:${e.type}`);
    expect(described(await collect(store.readAll()))).toEqual(mine);
    expect(described(await collect(store.readAll({ direction: 'backwards' })))).toEqual([...mine].reverse());
    expect(described(await subscribedUntilLive(store))).toEqual(mine);
    // A filter says what it wants: asked for, the links are read.
    expect((await collect(store.readAll({ filter: { streamNamePrefix: ['$ce-'] } }))).map((e) => e.type)).toEqual(['$>', '$>', '$>']);
  });
});

describe('docs/eventstoredb.md: `cadenza store serve` limits', () => {
  it('refuses an append over 1 MiB by default with MaximumAppendSizeExceededError, writing nothing; one under it is written', async () => {
    const embedded = await startEmbedded();
    cleanups.push(() => embedded.stop());
    const store = await openEsdbStore(embedded.connectionString);
    cleanups.push(() => store.close());
    await expect(store.append('big', [event('Big', { blob: 'x'.repeat(1024 * 1024 + 1024) })])).rejects.toBeInstanceOf(MaximumAppendSizeExceededError);
    await expect(collect(store.readStream('big'))).rejects.toBeInstanceOf(StreamNotFoundError);
    await store.append('big', [event('Fits', { blob: 'x'.repeat(1000 * 1024) })]);
    expect((await collect(store.readStream('big'))).map((e) => e.type)).toEqual(['Fits']);
  });
});
