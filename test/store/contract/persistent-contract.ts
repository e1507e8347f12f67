/**
 * Persistent subscriptions, stated once and run on every backend (the embedded store directly, and the
 * esdb adapter through the embedded server): groups on a stream and on `$all`, strategies, ack and
 * nack, retries, parking and replay, timeouts, checkpoints, consumers joining and leaving, errors.
 */
import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { linkEvent } from '../../../src/store/links.js';
import {
  MaximumSubscribersReachedError, PersistentSubscriptionDroppedError, PersistentSubscriptionExistsError,
  PersistentSubscriptionFailedError, PersistentSubscriptionNotFoundError,
} from '../../../src/store/persistent/errors.js';
import { ALL_SOURCE, type EventStore, type PersistentEvent, type PersistentSubscription } from '../../../src/store/port.js';
import type { ContractStore } from './event-store-contract.js';
import { waitFor } from '../../support/wait-for.js';
import { collect, events, uniqueName } from './helpers.js';

const WAIT_MS = 10_000;

/** The next `count` events of a consumer, or a failure naming what was still missing after WAIT_MS. */
async function take(subscription: PersistentSubscription, count: number, iterator = subscription[Symbol.asyncIterator]()): Promise<PersistentEvent[]> {
  const taken: PersistentEvent[] = [];
  while (taken.length < count) {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`only ${taken.length} of ${count} events arrived within ${WAIT_MS} ms`)), WAIT_MS);
    });
    try {
      const next = await Promise.race([iterator.next(), timeout]);
      if (next.done) throw new Error(`the subscription ended after ${taken.length} of ${count} events`);
      taken.push(next.value);
    } finally {
      clearTimeout(timer);
    }
  }
  return taken;
}

/** Wait until `check` holds, for state the group changes on its own schedule (checkpoints, parking, joins). */
const eventually = (what: string, check: () => Promise<boolean>) => waitFor(check, { what, timeoutMs: WAIT_MS, intervalMs: 20 });

async function rejection(action: () => Promise<unknown>): Promise<unknown> {
  return action().then(() => undefined, (error: unknown) => error);
}

const revisions = (taken: readonly PersistentEvent[]) => taken.map((item) => item.event.revision);

export function describePersistentSubscriptionContract(name: string, factory: () => Promise<ContractStore>): void {
  describe(`persistent subscriptions: ${name}`, () => {
    let context: ContractStore;
    let store: EventStore;
    const open: PersistentSubscription[] = [];
    const connect = (source: string, group: string, bufferSize = 10) => {
      const subscription = store.persistentSubscriptions.connect(source, group, { bufferSize });
      open.push(subscription);
      return subscription;
    };

    beforeEach(async () => {
      context = await factory();
      store = context.store;
    });
    afterEach(async () => {
      for (const subscription of open.splice(0)) await subscription.unsubscribe();
      await store.close();
      await context.cleanup?.();
    });

    it('creates a group once, reports it, and refuses what does not exist or is malformed', async () => {
      const stream = uniqueName('ps-admin');
      const groups = store.persistentSubscriptions;
      await groups.create(stream, 'g', { startFrom: 'start', maxRetryCount: 3, consumerStrategy: 'DispatchToSingle' });
      expect(await rejection(() => groups.create(stream, 'g'))).toBeInstanceOf(PersistentSubscriptionExistsError);
      const info = await groups.getInfo(stream, 'g');
      expect(info).toMatchObject({ source: stream, group: 'g', settings: { startFrom: 'start', maxRetryCount: 3, consumerStrategy: 'DispatchToSingle' } });
      expect((await groups.list(stream)).map((entry) => entry.group)).toEqual(['g']);
      expect((await groups.list()).some((entry) => entry.source === stream && entry.group === 'g')).toBe(true);

      await groups.update(stream, 'g', { startFrom: 'start', maxRetryCount: 5 });
      expect((await groups.getInfo(stream, 'g')).settings.maxRetryCount).toBe(5);
      await groups.delete(stream, 'g');

      for (const action of [
        () => groups.getInfo(stream, 'g'), () => groups.delete(stream, 'g'), () => groups.update(stream, 'g', {}),
        () => groups.replayParked(stream, 'g'),
      ]) {
        const error = await rejection(action);
        expect(error).toBeInstanceOf(PersistentSubscriptionNotFoundError);
        expect((error as Error).message).toContain(stream);
      }
      expect(await rejection(() => groups.create(stream, 'bad', { readBatchSize: 600, historyBufferSize: 500 })))
        .toBeInstanceOf(PersistentSubscriptionFailedError);
      expect(await groups.list(stream)).toEqual([]);
    });

    it('delivers a stream from the start, then live, and an acked event is not sent again', async () => {
      const stream = uniqueName('ps-basic');
      await store.append(stream, events(3));
      await store.persistentSubscriptions.create(stream, 'g', { startFrom: 'start' });
      const consumer = connect(stream, 'g');
      const iterator = consumer[Symbol.asyncIterator]();
      const first = await take(consumer, 3, iterator);
      expect(revisions(first)).toEqual([0n, 1n, 2n]);
      expect(first.every((item) => item.retryCount === 0)).toBe(true);
      await consumer.ack(...first.map((item) => item.event.id));
      await store.append(stream, events(2));
      expect(revisions(await take(consumer, 2, iterator))).toEqual([3n, 4n]);
    });

    it('starts at the end by default, and at a given revision inclusively', async () => {
      const stream = uniqueName('ps-start');
      await store.append(stream, events(4));
      await store.persistentSubscriptions.create(stream, 'from-end');
      await store.persistentSubscriptions.create(stream, 'from-2', { startFrom: 2n });
      const fromRevision = connect(stream, 'from-2');
      expect(revisions(await take(fromRevision, 2))).toEqual([2n, 3n]);
      const fromEnd = connect(stream, 'from-end');
      const iterator = fromEnd[Symbol.asyncIterator]();
      const next = iterator.next();
      await eventually('the consumer joined', async () => (await store.persistentSubscriptions.getInfo(stream, 'from-end')).connections.length === 1);
      await store.append(stream, events(1));
      const value = (await next).value as PersistentEvent;
      expect(value.event.revision).toBe(4n);
    });

    it("'end' is the end when the group is made: what is appended before anyone connects is delivered", async () => {
      const stream = uniqueName('ps-end');
      await store.append(stream, events(2));
      await store.persistentSubscriptions.create(stream, 'g');
      await store.append(stream, events(1));
      expect(revisions(await take(connect(stream, 'g'), 1))).toEqual([2n]);
    });

    it('nack retry sends again with the retry count raised; past maxRetryCount the event is parked, and replay sends it again', async () => {
      const stream = uniqueName('ps-retry');
      await store.append(stream, events(1));
      await store.persistentSubscriptions.create(stream, 'g', { startFrom: 'start', maxRetryCount: 1 });
      const consumer = connect(stream, 'g');
      const iterator = consumer[Symbol.asyncIterator]();
      const [first] = await take(consumer, 1, iterator);
      await consumer.nack('retry', 'try again', first!.event.id);
      const [second] = await take(consumer, 1, iterator);
      expect(second).toMatchObject({ retryCount: 1, event: { id: first!.event.id } });
      await consumer.nack('retry', 'still failing', second!.event.id);
      await eventually('the event is parked', async () => (await store.persistentSubscriptions.getInfo(stream, 'g')).parkedCount === 1n);

      await store.persistentSubscriptions.replayParked(stream, 'g');
      const [replayed] = await take(consumer, 1, iterator);
      expect(replayed!.event.id).toBe(first!.event.id);
      await consumer.ack(replayed!.event.id);
      await eventually('the parked stream is empty', async () => (await store.persistentSubscriptions.getInfo(stream, 'g')).parkedCount === 0n);
    });

    it('nack park parks at once, skip drops the event', async () => {
      const stream = uniqueName('ps-park');
      await store.append(stream, events(3));
      await store.persistentSubscriptions.create(stream, 'g', { startFrom: 'start' });
      const consumer = connect(stream, 'g');
      const iterator = consumer[Symbol.asyncIterator]();
      const taken = await take(consumer, 3, iterator);
      await consumer.nack('park', 'poison', taken[0]!.event.id);
      await consumer.nack('skip', 'not mine', taken[1]!.event.id);
      await consumer.ack(taken[2]!.event.id);
      await eventually('one event is parked', async () => (await store.persistentSubscriptions.getInfo(stream, 'g')).parkedCount === 1n);
      await store.append(stream, events(1));
      // The skipped event does not come back: the next one is the new event.
      expect(revisions(await take(consumer, 1, iterator))).toEqual([3n]);
    });

    it('resolveLinkTos delivers each link target with its link; the link id is acked, and a parked link replays resolved', async () => {
      const source = uniqueName('ps-target');
      const links = uniqueName('ps-links');
      await store.append(source, events(3));
      const targets = await collect(() => store.readStream(source));
      await store.append(links, targets.map((target) => linkEvent(randomUUID(), target)));
      await store.persistentSubscriptions.create(links, 'g', { startFrom: 'start', resolveLinkTos: true });
      const consumer = connect(links, 'g');
      const iterator = consumer[Symbol.asyncIterator]();
      const taken = await take(consumer, 3, iterator);
      expect(taken.map((item) => [item.event.stream, item.event.revision, item.event.link?.stream, item.event.link?.revision]))
        .toEqual([[source, 0n, links, 0n], [source, 1n, links, 1n], [source, 2n, links, 2n]]);
      const idOf = (item: PersistentEvent) => item.event.link!.id;
      await consumer.ack(idOf(taken[0]!), idOf(taken[1]!));
      await consumer.nack('park', 'poison', idOf(taken[2]!));
      await eventually('the link parked and nothing in flight', async () => {
        const info = await store.persistentSubscriptions.getInfo(links, 'g');
        return info.parkedCount === 1n && info.inFlight === 0;
      });
      await store.persistentSubscriptions.replayParked(links, 'g');
      const [replayed] = await take(consumer, 1, iterator);
      expect([replayed!.event.stream, replayed!.event.revision, replayed!.event.link?.stream, replayed!.event.link?.revision]).toEqual([source, 2n, links, 2n]);
    });

    it('sends an unacked event again after the message timeout', async () => {
      const stream = uniqueName('ps-timeout');
      await store.append(stream, events(1));
      await store.persistentSubscriptions.create(stream, 'g', { startFrom: 'start', messageTimeoutMs: 200 });
      const consumer = connect(stream, 'g');
      const taken = await take(consumer, 2);
      expect(taken.map((item) => item.event.id)).toEqual([taken[0]!.event.id, taken[0]!.event.id]);
      expect(taken.map((item) => item.retryCount)).toEqual([0, 1]);
    });

    it('round robin shares events between consumers; what a leaving consumer did not ack goes to the other', async () => {
      const stream = uniqueName('ps-rr');
      await store.append(stream, events(4));
      await store.persistentSubscriptions.create(stream, 'g', { startFrom: 'start' });
      const a = connect(stream, 'g', 1);
      const b = connect(stream, 'g', 1);
      const aIterator = a[Symbol.asyncIterator]();
      const bIterator = b[Symbol.asyncIterator]();
      const [fromA] = await take(a, 1, aIterator);
      const [fromB] = await take(b, 1, bIterator);
      expect(fromA!.event.id).not.toBe(fromB!.event.id);
      // A leaves holding its event: B gets it, then the rest.
      await a.unsubscribe();
      await b.ack(fromB!.event.id);
      const rest: PersistentEvent[] = [];
      while (rest.length < 3) {
        const [next] = await take(b, 1, bIterator);
        rest.push(next!);
        await b.ack(next!.event.id);
      }
      const seen = new Set([fromB!.event.revision, ...rest.map((item) => item.event.revision)]);
      expect([...seen].sort()).toEqual([0n, 1n, 2n, 3n]);
      expect(rest.find((item) => item.event.id === fromA!.event.id)?.retryCount).toBe(1);
    });

    it('dispatch to single sends to the first consumer while it has room', async () => {
      const stream = uniqueName('ps-single');
      await store.persistentSubscriptions.create(stream, 'g', { startFrom: 'start', consumerStrategy: 'DispatchToSingle' });
      const a = connect(stream, 'g', 10);
      const aIterator = a[Symbol.asyncIterator]();
      const aFirst = aIterator.next();
      await eventually('A joined', async () => (await store.persistentSubscriptions.getInfo(stream, 'g')).connections.length === 1);
      const b = connect(stream, 'g', 10);
      // B's first event never comes: the iteration ends when the test unsubscribes.
      void b[Symbol.asyncIterator]().next().catch(() => undefined);
      await eventually('B joined', async () => (await store.persistentSubscriptions.getInfo(stream, 'g')).connections.length === 2);
      await store.append(stream, events(5));
      const taken = [(await aFirst).value as PersistentEvent, ...await take(a, 4, aIterator)];
      expect(revisions(taken)).toEqual([0n, 1n, 2n, 3n, 4n]);
      const info = await store.persistentSubscriptions.getInfo(stream, 'g');
      expect(info.connections.map((connection) => connection.inFlight).sort()).toEqual([0, 5]);
    });

    it('pinned sends the events of one stream to one consumer', async () => {
      const category = uniqueName('pspin');
      await store.persistentSubscriptions.create(ALL_SOURCE, `${category}-g`, {
        startFrom: 'end', consumerStrategy: 'Pinned', filter: { streamNamePrefix: [`${category}-`] },
      });
      const a = connect(ALL_SOURCE, `${category}-g`, 50);
      const b = connect(ALL_SOURCE, `${category}-g`, 50);
      const received = new Map<string, Set<PersistentSubscription>>();
      const drain = async (consumer: PersistentSubscription) => {
        for await (const item of consumer) {
          const set = received.get(item.event.stream) ?? new Set();
          set.add(consumer);
          received.set(item.event.stream, set);
          await consumer.ack(item.event.id);
        }
      };
      const drains = [drain(a).catch(() => undefined), drain(b).catch(() => undefined)];
      await eventually('both joined', async () => (await store.persistentSubscriptions.getInfo(ALL_SOURCE, `${category}-g`)).connections.length === 2);
      for (let round = 0; round < 3; round++) {
        for (let index = 0; index < 6; index++) await store.append(`${category}-${index}`, events(1));
      }
      await eventually('all 18 events arrived', async () => {
        const info = await store.persistentSubscriptions.getInfo(ALL_SOURCE, `${category}-g`);
        return info.connections.reduce((sum, connection) => sum + connection.totalItems, 0n) === 18n;
      });
      expect(received.size).toBe(6);
      for (const consumers of received.values()) expect(consumers.size).toBe(1);
      await a.unsubscribe();
      await b.unsubscribe();
      await Promise.all(drains);
    });

    it('a group on $all with a filter sends only matching events', async () => {
      const prefix = uniqueName('psall');
      await store.persistentSubscriptions.create(ALL_SOURCE, prefix, { startFrom: 'end', filter: { streamNamePrefix: [`${prefix}-`] } });
      const consumer = connect(ALL_SOURCE, prefix);
      const iterator = consumer[Symbol.asyncIterator]();
      const first = iterator.next();
      await eventually('the consumer joined', async () => (await store.persistentSubscriptions.getInfo(ALL_SOURCE, prefix)).connections.length === 1);
      await store.append(uniqueName('other'), events(2));
      await store.append(`${prefix}-a`, events(2));
      const taken = [(await first).value as PersistentEvent, ...await take(consumer, 1, iterator)];
      expect(taken.map((item) => item.event.stream)).toEqual([`${prefix}-a`, `${prefix}-a`]);
      await store.persistentSubscriptions.delete(ALL_SOURCE, prefix);
    });

    it('checkpoints acked events; after a restart the group resumes after the checkpoint', async () => {
      const stream = uniqueName('ps-checkpoint');
      await store.append(stream, events(3));
      await store.persistentSubscriptions.create(stream, 'g', {
        startFrom: 'start', minCheckpointCount: 1, maxCheckpointCount: 1, checkpointAfterMs: 0,
      });
      const consumer = connect(stream, 'g');
      const taken = await take(consumer, 3);
      await consumer.ack(...taken.map((item) => item.event.id));
      await eventually('the checkpoint reached revision 2', async () => (await store.persistentSubscriptions.getInfo(stream, 'g')).lastCheckpoint === 2n);

      await store.persistentSubscriptions.restartSubsystem();
      await store.append(stream, events(1));
      const again = connect(stream, 'g');
      expect(revisions(await take(again, 1))).toEqual([3n]);
    });

    it('refuses a consumer beyond maxSubscriberCount and one of a missing group; consumers of a deleted group learn it is gone', async () => {
      const stream = uniqueName('ps-limits');
      await store.append(stream, events(1));
      await store.persistentSubscriptions.create(stream, 'g', { startFrom: 'start', maxSubscriberCount: 1 });
      const first = connect(stream, 'g');
      const iterator = first[Symbol.asyncIterator]();
      await take(first, 1, iterator);
      const second = connect(stream, 'g');
      expect(await rejection(() => second[Symbol.asyncIterator]().next())).toBeInstanceOf(MaximumSubscribersReachedError);
      const missing = connect(stream, 'nope');
      expect(await rejection(() => missing[Symbol.asyncIterator]().next())).toBeInstanceOf(PersistentSubscriptionNotFoundError);

      const pending = iterator.next().then(() => undefined, (error: unknown) => error);
      await store.persistentSubscriptions.delete(stream, 'g');
      expect(await pending).toBeInstanceOf(PersistentSubscriptionNotFoundError);
    });

    it('drops the consumers of an updated group, and they can connect again', async () => {
      const stream = uniqueName('ps-update');
      await store.append(stream, events(1));
      await store.persistentSubscriptions.create(stream, 'g', { startFrom: 'start' });
      const consumer = connect(stream, 'g');
      const iterator = consumer[Symbol.asyncIterator]();
      await take(consumer, 1, iterator);
      const pending = iterator.next().then(() => undefined, (error: unknown) => error);
      await store.persistentSubscriptions.update(stream, 'g', { startFrom: 'start', maxRetryCount: 2 });
      expect(await pending).toBeInstanceOf(PersistentSubscriptionDroppedError);
      const again = connect(stream, 'g');
      const [redelivered] = await take(again, 1);
      expect(redelivered!.event.revision).toBe(0n);
    });
  });
}
