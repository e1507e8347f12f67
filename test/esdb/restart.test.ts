/**
 * Resilience of the adapter: the embedded server is stopped and started again on the same port over
 * the same store; subscriptions resume after the last delivered event (no gap, no duplicate) and
 * appends fail with UnavailableError while it is down.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { startEsdbServer } from '../../src/esdb-server/index.js';
import { UnavailableError } from '../../src/store/errors.js';
import { openEsdbStore } from '../../src/store/esdb.js';
import { openStore } from '../../src/store/open.js';
import type { EventData, EventStore, Subscription, SubscriptionMessage } from '../../src/store/port.js';
import { waitFor } from '../support/wait-for.js';

const events = (count: number, from: number): EventData[] =>
  Array.from({ length: count }, (_, index) => ({ id: randomUUID(), type: 'Counted', data: { n: from + index } }));


function consume(subscription: Subscription): SubscriptionMessage[] {
  const messages: SubscriptionMessage[] = [];
  void (async () => {
    for await (const message of subscription) messages.push(message);
  })();
  return messages;
}

const numbers = (messages: readonly SubscriptionMessage[]) =>
  messages.flatMap((message) => (message.kind === 'event' ? [(message.event.data as { n: number }).n] : []));

async function appendWhenBack(store: EventStore, stream: string, batch: EventData[]): Promise<void> {
  await waitFor(async () => {
    try {
      await store.append(stream, batch);
      return true;
    } catch (error) {
      if (!(error instanceof UnavailableError)) throw error;
      return false;
    }
  }, { what: `an append to ${stream} to succeed once the server is back`, timeoutMs: 20_000, intervalMs: 50 });
}

describe('esdb adapter across an embedded server restart', () => {
  it('resumes stream and filtered $all subscriptions without gaps or duplicates; appends fail with UnavailableError meanwhile', async () => {
    const backing = await openStore('memory:');
    let server = await startEsdbServer({ store: backing, port: 0 });
    const port = server.port;
    const adapter = await openEsdbStore(`esdb://127.0.0.1:${port}?tls=false`);
    const stream = `restart-${randomUUID()}`;
    try {
      await adapter.append(stream, events(20, 0));
      const streamSubscription = adapter.subscribeToStream(stream);
      const allSubscription = adapter.subscribeToAll({ filter: { streamNamePrefix: [stream] }, checkpointInterval: 5 });
      const fromStream = consume(streamSubscription);
      const fromAll = consume(allSubscription);
      await waitFor(() => numbers(fromStream).length === 20 && numbers(fromAll).length === 20, { what: 'both subscriptions to deliver 20 events' });
      await adapter.append(stream, events(5, 20));
      await waitFor(() => numbers(fromStream).length === 25 && numbers(fromAll).length === 25, { what: 'both subscriptions to deliver 25 events' });

      await server.close();
      const refused = await adapter.append(stream, events(1, -1)).then(() => undefined, (error: unknown) => error);
      expect(refused).toBeInstanceOf(UnavailableError);
      // Written while the server is away: the resumed subscriptions must still deliver these.
      await backing.append(stream, events(10, 25));

      server = await startEsdbServer({ store: backing, port });
      await appendWhenBack(adapter, stream, events(10, 35));
      await waitFor(() => numbers(fromStream).length >= 45 && numbers(fromAll).length >= 45, { what: 'both subscriptions to deliver 45 events' });
      await adapter.append(stream, events(5, 45));
      await waitFor(() => numbers(fromStream).length >= 50 && numbers(fromAll).length >= 50, { what: 'both subscriptions to deliver 50 events' });

      const expected = Array.from({ length: 50 }, (_, index) => index);
      expect(numbers(fromStream)).toEqual(expected);
      expect(numbers(fromAll)).toEqual(expected);
      for (const messages of [fromStream, fromAll]) {
        const signals = messages.filter((message) => message.kind === 'caughtUp' || message.kind === 'fellBehind').map((message) => message.kind);
        expect(signals).toEqual(['caughtUp', 'fellBehind', 'caughtUp']);
      }
      await streamSubscription.unsubscribe();
      await allSubscription.unsubscribe();
    } finally {
      await adapter.close();
      await server.close();
      await backing.close();
    }
  });
});

describe('esdb adapter without a server', () => {
  it('fails appends, reads and metadata calls with UnavailableError', async () => {
    const backing = await openStore('memory:');
    const server = await startEsdbServer({ store: backing, port: 0 });
    const port = server.port;
    await server.close();
    await backing.close();
    const adapter = await openEsdbStore(`esdb://127.0.0.1:${port}?tls=false`);
    try {
      const failure = (promise: Promise<unknown>) => promise.then(() => undefined, (error: unknown) => error);
      expect(await failure(adapter.append('nowhere', events(1, 0)))).toBeInstanceOf(UnavailableError);
      expect(await failure((async () => {
        for await (const _ of adapter.readStream('nowhere')) break;
      })())).toBeInstanceOf(UnavailableError);
      expect(await failure(adapter.getStreamMetadata('nowhere'))).toBeInstanceOf(UnavailableError);
    } finally {
      await adapter.close();
    }
  });
});
