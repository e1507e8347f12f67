/**
 * Persistent subscriptions over link events, through the real client against a server that runs the
 * system projections (as the official client's own tests run EventStoreDB): a group that resolves
 * links delivers each target with its link, is acked by the link's id, parks and replays the link;
 * Pinned pins an unresolved link to its target's stream. Enabling a served system projection succeeds.
 */
import {
  jsonEvent, PINNED, persistentSubscriptionToStreamSettingsFromDefaults, START,
  UnknownError, type PersistentSubscriptionToStreamResolvedEvent,
} from '@eventstore/db-client';
import { status } from '@grpc/grpc-js';
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { waitFor } from '../support/wait-for.js';
import { embeddedWithClient } from './support.js';

const uniqueType = (name: string) => `${name}${randomUUID().slice(0, 8)}`;
const typed = (type: string, count: number) => Array.from({ length: count }, (_, index) => jsonEvent({ id: randomUUID(), type, data: { index } }));

describe('embedded EventStoreDB server: persistent subscriptions over link events', () => {
  const served = embeddedWithClient({ systemProjections: true });

  /** Wait until the `$by_event_type` projection has linked `count` events of `type`. */
  async function linked(type: string, count: number): Promise<void> {
    await waitFor(async () => {
      let seen = 0;
      try {
        for await (const _ of served.client.readStream(`$et-${type}`)) seen++;
      } catch {
        return false;
      }
      return seen === count;
    }, { what: `${count} links in $et-${type}` });
  }

  it('enables a served system projection; user-defined ones are still refused', async () => {
    await expect(served.client.enableProjection('$by_event_type')).resolves.toBeUndefined();
    const refused = await served.client.enableProjection('orders').then(() => expect.fail('expected a refusal'), (error: unknown) => error);
    expect(refused).toBeInstanceOf(UnknownError);
    expect((refused as UnknownError).code).toBe(status.FAILED_PRECONDITION);
    expect((refused as UnknownError).message).toMatch(/User-defined projections are not supported/);
  });

  it('resolveLinkTos: each target with its link, acked by the link id; a parked link is replayed resolved', async () => {
    const type = uniqueType('Resolved');
    const source = `resolved-${randomUUID().slice(0, 8)}`;
    await served.client.appendToStream(source, typed(type, 3));
    await linked(type, 3);
    const linkStream = `$et-${type}`;
    await served.client.createPersistentSubscriptionToStream(linkStream, 'g', persistentSubscriptionToStreamSettingsFromDefaults({ startFrom: START, resolveLinkTos: true }));

    const subscription = served.client.subscribeToPersistentSubscriptionToStream(linkStream, 'g');
    const seen: PersistentSubscriptionToStreamResolvedEvent[] = [];
    subscription.on('data', (event: PersistentSubscriptionToStreamResolvedEvent) => {
      seen.push(event);
      // The last one is parked, the others acked: both by the id the client sends, the link's.
      if (event.event?.revision === 2n && event.retryCount === 0 && seen.filter((other) => other.event?.revision === 2n).length === 1) {
        void subscription.nack('park', 'poison', event);
      } else {
        void subscription.ack(event);
      }
    });
    await waitFor(() => seen.length === 3, { what: 'three resolved events' });
    for (const [index, delivered] of seen.entries()) {
      expect(delivered.event).toMatchObject({ streamId: source, revision: BigInt(index), type, data: { index } });
      expect(delivered.link).toMatchObject({ streamId: linkStream, revision: BigInt(index), type: '$>' });
      // Both parts at the link's place in the log, as EventStoreDB sends them.
      expect(delivered.event!.position).toEqual(delivered.link!.position);
    }
    // Acks by link id reach the group: nothing stays in flight (keyed by the target's id, all three would).
    await waitFor(async () => {
      const info = await served.client.getPersistentSubscriptionToStreamInfo(linkStream, 'g');
      return info.connections[0]?.inFlightMessages === 0 && info.stats.parkedMessageCount === 1n;
    }, { what: 'two acks and one parked link' });

    await served.client.replayParkedMessagesToStream(linkStream, 'g');
    await waitFor(() => seen.length === 4, { what: 'the parked link sent again' });
    expect(seen[3]!.event).toMatchObject({ streamId: source, revision: 2n, type });
    expect(seen[3]!.link).toMatchObject({ streamId: linkStream, revision: 2n, type: '$>' });
    await subscription.unsubscribe();
  });

  it('Pinned pins an unresolved link by its target stream, as EventStoreDB does', async () => {
    const type = uniqueType('Pinned');
    const linkStream = `$et-${type}`;
    // The stream of the links; created before the group, so the group starts after this first link.
    await served.client.appendToStream('pin-setup', typed(type, 1));
    await linked(type, 1);
    await served.client.createPersistentSubscriptionToStream(linkStream, 'g', persistentSubscriptionToStreamSettingsFromDefaults({ consumerStrategyName: PINNED }));
    const received = [new Map<string, number>(), new Map<string, number>()];
    const subscriptions = received.map((counts) => {
      const subscription = served.client.subscribeToPersistentSubscriptionToStream(linkStream, 'g');
      subscription.on('data', (event: PersistentSubscriptionToStreamResolvedEvent) => {
        const target = Buffer.from(event.event!.data as Uint8Array).toString('utf8').split('@')[1]!;
        counts.set(target, (counts.get(target) ?? 0) + 1);
        void subscription.ack(event);
      });
      return subscription;
    });
    await Promise.all(subscriptions.map((subscription) => new Promise((resolve) => subscription.once('confirmation', resolve))));
    // Fixed names: FNV-1a puts them in buckets on both consumers (were links pinned by the link stream, all would go to one).
    const sources = ['pin-a', 'pin-b', 'pin-c', 'pin-d', 'pin-e', 'pin-f'];
    for (const source of sources) await served.client.appendToStream(source, typed(type, 2));
    await waitFor(() => received.reduce((sum, counts) => sum + [...counts.values()].reduce((a, b) => a + b, 0), 0) === 12, { what: 'twelve links delivered' });
    expect(received.every((counts) => counts.size > 0)).toBe(true);
    for (const source of sources) {
      const holders = received.filter((counts) => counts.has(source));
      expect(holders).toHaveLength(1);
      expect(holders[0]!.get(source)).toBe(2);
    }
    await Promise.all(subscriptions.map((subscription) => subscription.unsubscribe()));
  });
});
