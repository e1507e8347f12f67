/**
 * The event store contract: the port's semantics (EventStoreDB's), stated once and run against every
 * backend. It talks to the store through the port only, and every test uses stream names of its own,
 * so it can also run against a shared, real EventStoreDB.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  InvalidArgumentError,
  StoreClosedError,
  StreamDeletedError,
  StreamNotFoundError,
  WrongExpectedVersionError,
} from '../../../src/store/errors.js';
import { comparePositions, type EventStore, type RecordedEvent, type SubscriptionMessage } from '../../../src/store/port.js';
import { describeBinaryContract } from './binary-contract.js';
import { describeLinksContract } from './links-contract.js';
import { collect, event, events, eventsOf, headPosition, takeUntil, uniqueName } from './helpers.js';

export interface ContractStore {
  readonly store: EventStore;
  readonly cleanup?: () => Promise<void>;
}

export interface ContractOptions {
  /**
   * The backend reports a checkpoint after exactly every `checkpointInterval` considered events, at
   * the position of the last one considered, and no other writer shares its log. True for the
   * embedded store; EventStoreDB checkpoints on its own search-window schedule.
   */
  readonly exactCheckpoints?: boolean;
  /** Size of the string in the large-event test. Default 1,000,000 (EventStoreDB's default max append is 1 MiB). */
  readonly largeEventBytes?: number;
}

type Factory = () => Promise<ContractStore>;

async function expectRejection(action: () => unknown, type: new (...args: never[]) => Error, message?: RegExp): Promise<Error> {
  const error = await (async () => action())().then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(type);
  if (message) expect((error as Error).message).toMatch(message);
  return error as Error;
}

/** Resolved when a subscription reports `caughtUp`: from then on, what is appended is live for it. */
function caughtUpSignal(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((done) => (resolve = done));
  return { promise, resolve };
}

const revisionsOf = (recorded: readonly RecordedEvent[]) => recorded.map((one) => one.revision);
const range = (from: number, count: number) => Array.from({ length: count }, (_, index) => BigInt(from + index));

export function describeEventStoreContract(name: string, factory: Factory, options: ContractOptions = {}): void {
  describe(`event store contract: ${name}`, () => {
    let store: EventStore;
    let cleanup: (() => Promise<void>) | undefined;
    let prefix: string;
    beforeEach(async () => {
      ({ store, cleanup } = await factory());
      prefix = uniqueName('contract');
    });
    afterEach(async () => {
      // A test may have closed the store itself; closing again must not hide the cleanup.
      await store.close().catch((error: unknown) => {
        if (!(error instanceof StoreClosedError)) throw error;
      });
      await cleanup?.();
    });
    const streamName = (suffix: string) => `${prefix}-${suffix}`;

    describe('binary events and metadata', () => describeBinaryContract(() => store, streamName));
    describe('link events and resolveLinkTos', () => describeLinksContract(() => store, streamName));

    describe('append and read back', () => {
      it('stores events with ids, types, data, metadata, revisions from 0 and the creation time', async () => {
        const stream = streamName('order');
        const written = [event('Placed', { total: 10, items: ['a', 'b'] }, { correlationId: 'c-1' }), event('Paid', null)];
        const before = Date.now();
        const result = await store.append(stream, written, { expectedRevision: 'no_stream' });
        expect(result.nextExpectedRevision).toBe(1n);

        const read = await collect(() => store.readStream(stream));
        expect(read.map((one) => [one.id, one.type, one.data, one.metadata, one.stream])).toEqual([
          [written[0]?.id, 'Placed', { total: 10, items: ['a', 'b'] }, { correlationId: 'c-1' }, stream],
          [written[1]?.id, 'Paid', null, {}, stream],
        ]);
        expect(revisionsOf(read)).toEqual([0n, 1n]);
        expect(read[1]?.position).toEqual(result.position);
        expect(read[0]?.created).toBeInstanceOf(Date);
        expect(read[0]?.created.getTime()).toBeGreaterThanOrEqual(before - 60_000);
      });

      it('checks the expected revision: a number, no_stream, stream_exists, any', async () => {
        const stream = streamName('expect');
        await expectRejection(() => store.append(stream, [event('A')], { expectedRevision: 'stream_exists' }), WrongExpectedVersionError);
        await expectRejection(() => store.append(stream, [event('A')], { expectedRevision: 0n }), WrongExpectedVersionError);
        await store.append(stream, [event('A')], { expectedRevision: 'no_stream' });
        const conflict = (await expectRejection(
          () => store.append(stream, [event('B')], { expectedRevision: 'no_stream' }),
          WrongExpectedVersionError,
        )) as WrongExpectedVersionError;
        expect(conflict.expected).toBe('no_stream');
        expect(conflict.actual).toBe(0n);
        const stale = (await expectRejection(
          () => store.append(stream, [event('B')], { expectedRevision: 5n }),
          WrongExpectedVersionError,
        )) as WrongExpectedVersionError;
        expect([stale.stream, stale.expected, stale.actual]).toEqual([stream, 5n, 0n]);

        expect((await store.append(stream, [event('B')], { expectedRevision: 0n })).nextExpectedRevision).toBe(1n);
        expect((await store.append(stream, [event('C')], { expectedRevision: 'stream_exists' })).nextExpectedRevision).toBe(2n);
        expect((await store.append(stream, [event('D')], { expectedRevision: 'any' })).nextExpectedRevision).toBe(3n);
        expect((await store.append(stream, [event('E')])).nextExpectedRevision).toBe(4n);
        expect(revisionsOf(await collect(() => store.readStream(stream)))).toEqual(range(0, 5));
      });

      it('lets exactly one of many concurrent appends at the same expected revision win', async () => {
        const stream = streamName('race');
        await store.append(stream, [event('Created')], { expectedRevision: 'no_stream' });
        const contenders = Array.from({ length: 12 }, (_, index) => store.append(stream, [event('Moved', { index })], { expectedRevision: 0n }));
        const outcomes = await Promise.allSettled(contenders);
        const winners = outcomes.filter((outcome) => outcome.status === 'fulfilled');
        expect(winners).toHaveLength(1);
        for (const outcome of outcomes) {
          if (outcome.status === 'rejected') expect(outcome.reason).toBeInstanceOf(WrongExpectedVersionError);
        }
        const read = await collect(() => store.readStream(stream));
        expect(revisionsOf(read)).toEqual([0n, 1n]);
      });

      it('gives concurrent appends with no expectation distinct, gapless revisions', async () => {
        const stream = streamName('many');
        const results = await Promise.all(Array.from({ length: 20 }, (_, index) => store.append(stream, [event('Tick', { index })])));
        expect(results.map((result) => result.nextExpectedRevision).sort((a, b) => (a < b ? -1 : 1))).toEqual(range(0, 20));
        expect(revisionsOf(await collect(() => store.readStream(stream)))).toEqual(range(0, 20));
      });

      it('treats appending the same event ids again at the same expected revision as a no-op', async () => {
        const stream = streamName('idempotent');
        const first = events(3);
        const original = await store.append(stream, first, { expectedRevision: 'no_stream' });
        const again = await store.append(stream, first, { expectedRevision: 'no_stream' });
        expect(again.nextExpectedRevision).toBe(original.nextExpectedRevision);

        const second = events(2);
        const next = await store.append(stream, second, { expectedRevision: 2n });
        expect((await store.append(stream, second, { expectedRevision: 2n })).nextExpectedRevision).toBe(next.nextExpectedRevision);
        expect((await store.append(stream, second, { expectedRevision: 'any' })).nextExpectedRevision).toBe(next.nextExpectedRevision);

        const read = await collect(() => store.readStream(stream));
        expect(read.map((one) => one.id)).toEqual([...first, ...second].map((one) => one.id));
      });

      it('refuses a re-append whose ids only partly match what is stored', async () => {
        const stream = streamName('partial');
        const first = events(2);
        await store.append(stream, first, { expectedRevision: 'no_stream' });
        await expectRejection(
          () => store.append(stream, [first[0]!, event('Other')], { expectedRevision: 'no_stream' }),
          WrongExpectedVersionError,
        );
        expect(await collect(() => store.readStream(stream))).toHaveLength(2);
      });

      it('checks the expectation of an empty append and answers the stream\'s last revision', async () => {
        const stream = streamName('empty-existing');
        await store.append(stream, events(3));
        expect((await store.append(stream, [], { expectedRevision: 2n })).nextExpectedRevision).toBe(2n);
        expect((await store.append(stream, [], { expectedRevision: 'stream_exists' })).nextExpectedRevision).toBe(2n);
        await expectRejection(() => store.append(stream, [], { expectedRevision: 1n }), WrongExpectedVersionError);
        await expectRejection(() => store.append(stream, [], { expectedRevision: 'no_stream' }), WrongExpectedVersionError);
        expect(revisionsOf(await collect(() => store.readStream(stream)))).toEqual([0n, 1n, 2n]);
      });

      it('does not create a stream for an empty append, and reports a missing stream as not found', async () => {
        const stream = streamName('empty');
        await store.append(stream, [], { expectedRevision: 'no_stream' });
        await expectRejection(() => collect(() => store.readStream(stream)), StreamNotFoundError);
        await expectRejection(() => collect(() => store.readStream(streamName('never-written'), { direction: 'backwards' })), StreamNotFoundError);
        await store.append(stream, [event('First')], { expectedRevision: 'no_stream' });
        expect(await collect(() => store.readStream(stream, { maxCount: 0 }))).toEqual([]);
      });

      it('round-trips a large event', async () => {
        const stream = streamName('large');
        const blob = 'x'.repeat(options.largeEventBytes ?? 1_000_000);
        await store.append(stream, [event('Large', { blob })]);
        const [read] = await collect(() => store.readStream(stream));
        expect((read?.data as { blob: string }).blob).toBe(blob);
      });

      it('accepts unicode stream names, types and data', async () => {
        const stream = `${prefix}-ünïcødé-流-🎵`;
        await store.append(stream, [event('Événement-事件', { text: 'naïve ☃ 𝄞', '键': '值' })]);
        const [read] = await collect(() => store.readStream(stream));
        expect([read?.stream, read?.type, read?.data]).toEqual([stream, 'Événement-事件', { text: 'naïve ☃ 𝄞', '键': '值' }]);
        const viaAll = await collect(() => store.readAll({ filter: { streamNamePrefix: [`${prefix}-ünïcødé`] } }));
        expect(viaAll.map((one) => one.stream)).toEqual([stream]);
      });
    });

    describe('reading a stream', () => {
      it('reads forwards and backwards from a revision with a count, across pages', async () => {
        const stream = streamName('pages');
        await store.append(stream, events(1200));
        expect(revisionsOf(await collect(() => store.readStream(stream)))).toEqual(range(0, 1200));
        expect(revisionsOf(await collect(() => store.readStream(stream, { fromRevision: 1100n, maxCount: 3 })))).toEqual(range(1100, 3));
        expect(revisionsOf(await collect(() => store.readStream(stream, { fromRevision: 1198n })))).toEqual([1198n, 1199n]);
        expect(await collect(() => store.readStream(stream, { fromRevision: 5000n }))).toEqual([]);

        const backwards = revisionsOf(await collect(() => store.readStream(stream, { direction: 'backwards' })));
        expect(backwards).toEqual(range(0, 1200).reverse());
        expect(revisionsOf(await collect(() => store.readStream(stream, { direction: 'backwards', maxCount: 2n })))).toEqual([1199n, 1198n]);
        expect(revisionsOf(await collect(() => store.readStream(stream, { direction: 'backwards', fromRevision: 1n })))).toEqual([1n, 0n]);
        expect(revisionsOf(await collect(() => store.readStream(stream, { direction: 'backwards', fromRevision: 700n, maxCount: 600 })))).toEqual(
          range(101, 600).reverse(),
        );
      });
    });

    describe('reading $all', () => {
      it('orders events by strictly increasing positions, with exclusive bounds both ways', async () => {
        const before = await headPosition(store);
        const [a, b, c] = [streamName('all-a'), streamName('all-b'), streamName('all-c')];
        await store.append(a, [event('One')]);
        await store.append(b, [event('Two'), event('Three')]);
        await store.append(c, [event('Four')]);
        await store.append(a, [event('Five')]);

        const mine = (recorded: RecordedEvent[]) => recorded.filter((one) => one.stream.startsWith(prefix));
        const forwards = mine(await collect(() => store.readAll({ fromPosition: before })));
        expect(forwards.map((one) => one.type)).toEqual(['One', 'Two', 'Three', 'Four', 'Five']);
        expect(forwards.map((one) => [one.stream, one.revision])).toEqual([[a, 0n], [b, 0n], [b, 1n], [c, 0n], [a, 1n]]);
        for (let index = 1; index < forwards.length; index++) {
          expect(comparePositions(forwards[index - 1]!.position, forwards[index]!.position)).toBe(-1);
        }
        expect(comparePositions(before, forwards[0]!.position)).toBe(-1);

        const afterSecond = mine(await collect(() => store.readAll({ fromPosition: forwards[1]!.position })));
        expect(afterSecond.map((one) => one.type)).toEqual(['Three', 'Four', 'Five']);

        const backwards = mine(await collect(() => store.readAll({ direction: 'backwards', fromPosition: forwards[4]!.position, maxCount: 10_000 })));
        expect(backwards.slice(0, 4).map((one) => one.type)).toEqual(['Four', 'Three', 'Two', 'One']);

        const newestFirst = await collect(() => store.readAll({ direction: 'backwards', maxCount: 1 }));
        expect(comparePositions(newestFirst[0]!.position, forwards[4]!.position)).toBeGreaterThanOrEqual(0);
      });

      it('filters by stream name prefix and regex and by event type prefix and regex', async () => {
        const before = await headPosition(store);
        await store.append(streamName('orders-1'), [event('OrderPlaced'), event('OrderPaid')]);
        await store.append(streamName('users-1'), [event('UserJoined')]);
        await store.append(streamName('orders-2'), [event('OrderPlaced')]);
        const read = async (filter: Parameters<EventStore['readAll']>[0]) =>
          (await collect(() => store.readAll({ fromPosition: before, ...filter }))).filter((one) => one.stream.startsWith(prefix));

        const byPrefix = await read({ filter: { streamNamePrefix: [streamName('orders-'), streamName('nothing')] } });
        expect(byPrefix.map((one) => one.type)).toEqual(['OrderPlaced', 'OrderPaid', 'OrderPlaced']);
        const byRegex = await read({ filter: { streamNameRegex: `^${prefix}-users-` } });
        expect(byRegex.map((one) => one.type)).toEqual(['UserJoined']);
        const byTypePrefix = await read({ filter: { eventTypePrefix: ['OrderPl'] } });
        expect(byTypePrefix.map((one) => one.stream)).toEqual([streamName('orders-1'), streamName('orders-2')]);
        const byTypeRegex = await read({ filter: { eventTypeRegex: '^(UserJoined|OrderPaid)$' } });
        expect(byTypeRegex.map((one) => one.type)).toEqual(['OrderPaid', 'UserJoined']);
        const limited = await collect(() => store.readAll({ fromPosition: before, maxCount: 2, filter: { streamNamePrefix: [streamName('orders-')] } }));
        expect(limited.map((one) => one.type)).toEqual(['OrderPlaced', 'OrderPaid']);
      });
    });

    describe('subscriptions', () => {
      it('delivers a stream from the start, signals caught up, then goes live with no gap or duplicate', async () => {
        const stream = streamName('live');
        await store.append(stream, events(25));
        const writer = (async () => {
          for (let index = 0; index < 40; index++) await store.append(stream, [event('Live', { index })]);
        })();
        const messages = await takeUntil(store.subscribeToStream(stream), (seen) => eventsOf(seen).length === 65);
        await writer;
        expect(revisionsOf(eventsOf(messages))).toEqual(range(0, 65));
        expect(messages.filter((message) => message.kind === 'caughtUp')).toHaveLength(1);
      });

      it('subscribes to a stream after a revision (exclusive) or from its end', async () => {
        const stream = streamName('from');
        await store.append(stream, events(5));
        const fromEnd = store.subscribeToStream(stream, { fromRevision: 'end' });
        const afterTwo = store.subscribeToStream(stream, { fromRevision: 2n });
        // 'Later' is appended once both have caught up (the server has placed them), not after a sleep.
        const endLive = caughtUpSignal();
        const afterLive = caughtUpSignal();
        const untilLater = (caughtUp: () => void) => (seen: readonly SubscriptionMessage[]) => {
          if (seen.at(-1)?.kind === 'caughtUp') caughtUp();
          return eventsOf(seen).some((one) => one.type === 'Later');
        };
        const [endMessages, afterMessages] = await Promise.all([
          takeUntil(fromEnd, untilLater(endLive.resolve)),
          takeUntil(afterTwo, untilLater(afterLive.resolve)),
          (async () => {
            await Promise.all([endLive.promise, afterLive.promise]);
            await store.append(stream, [event('Later')]);
          })(),
        ]);
        expect(revisionsOf(eventsOf(endMessages))).toEqual([5n]);
        expect(revisionsOf(eventsOf(afterMessages))).toEqual([3n, 4n, 5n]);
      });

      it('switches a filtered $all subscription from catch-up to live while appends continue', async () => {
        const before = await headPosition(store);
        const stream = streamName('all-live');
        await store.append(stream, events(30));
        await store.append(streamName('noise'), events(5));
        const writer = (async () => {
          for (let index = 0; index < 40; index++) {
            await store.append(stream, [event('Live', { index })]);
            if (index % 10 === 0) await store.append(streamName('noise'), [event('Noise')]);
          }
        })();
        const subscription = store.subscribeToAll({ fromPosition: before, filter: { streamNamePrefix: [stream] } });
        const messages = await takeUntil(subscription, (seen) => eventsOf(seen).length === 70);
        await writer;
        const delivered = eventsOf(messages);
        expect(delivered.every((one) => one.stream === stream)).toBe(true);
        expect(revisionsOf(delivered)).toEqual(range(0, 70));
        expect(messages.filter((message) => message.kind === 'caughtUp')).toHaveLength(1);
      });

      it('reports checkpoints for events the filter considered, even when none match', async () => {
        const before = await headPosition(store);
        const other = streamName('other');
        const wanted = streamName('wanted');
        for (let round = 0; round < 3; round++) {
          await store.append(other, events(4, 'Other'));
          await store.append(wanted, [event('Wanted', { round })]);
        }
        const subscription = store.subscribeToAll({ fromPosition: before, filter: { streamNamePrefix: [wanted] }, checkpointInterval: 4 });
        const messages = await takeUntil(subscription, (seen) => seen.some((message) => message.kind === 'caughtUp'));
        expect(eventsOf(messages).map((one) => one.data)).toEqual([{ round: 0 }, { round: 1 }, { round: 2 }]);
        const checkpoints = messages.flatMap((message) => (message.kind === 'checkpoint' ? [message.position] : []));
        for (let index = 1; index < checkpoints.length; index++) expect(comparePositions(checkpoints[index - 1]!, checkpoints[index]!)).toBe(-1);

        if (options.exactCheckpoints) {
          // 15 events considered, interval 4: after the 4th, 8th and 12th (others 4, 7 and 10).
          const all = await collect(() => store.readAll({ fromPosition: before }));
          expect(messages.map((message) => message.kind)).toEqual(['checkpoint', 'event', 'checkpoint', 'event', 'checkpoint', 'event', 'caughtUp']);
          expect(checkpoints).toEqual([all[3]!.position, all[7]!.position, all[11]!.position]);
        }

        const silent = store.subscribeToAll({ fromPosition: before, filter: { streamNamePrefix: [streamName('matches-nothing')] }, checkpointInterval: 4 });
        const quiet = await takeUntil(silent, (seen) => seen.some((message) => message.kind === 'checkpoint'));
        expect(eventsOf(quiet)).toEqual([]);
        const [first] = quiet.flatMap((message) => (message.kind === 'checkpoint' ? [message.position] : []));
        expect(comparePositions(first!, before)).toBe(1);
      });

      it('matches stream name prefixes with non-ASCII characters, several prefixes at once', async () => {
        const before = await headPosition(store);
        const base = streamName('prefix');
        const wanted = [`${base}-ünï-😀-one`, `${base}-ünï-😀`, `${base}-other-wanted`];
        const unwanted = [`${base}-ünï-😁`, `${base}-ün`, `${base}-other`];
        for (const stream of [...wanted, ...unwanted]) await store.append(stream, [event('Prefixed', { stream })]);
        const subscription = store.subscribeToAll({ fromPosition: before, filter: { streamNamePrefix: [`${base}-ünï-😀`, `${base}-other-`] } });
        const messages = await takeUntil(subscription, (seen) => seen.some((message) => message.kind === 'caughtUp'));
        expect(eventsOf(messages).map((one) => one.stream)).toEqual(wanted);
      });

      it('passes over the events a subscriber says it knows, in catch-up and live, and still counts them for checkpoints', async () => {
        const before = await headPosition(store);
        const stream = streamName('skip');
        await store.append(stream, events(12));
        // Every revision but each fifth is "already known" to this subscriber.
        const asked: bigint[] = [];
        const skip = (name: string, revision: bigint) => {
          asked.push(revision);
          return name === stream && revision % 5n !== 0n;
        };
        const subscription = store.subscribeToAll({ fromPosition: before, filter: { streamNamePrefix: [stream] }, checkpointInterval: 4, skip });
        const messages: SubscriptionMessage[] = [];
        for await (const message of subscription) {
          messages.push(message);
          if (message.kind === 'caughtUp') await store.append(stream, events(4, 'Live'));
          if (message.kind === 'event' && message.event.revision === 15n) break;
        }
        await subscription.unsubscribe();
        const delivered = eventsOf(messages);
        expect(revisionsOf(delivered)).toEqual([0n, 5n, 10n, 15n]);
        // Delivered events are whole: their data and types are the stored ones.
        expect(delivered.map((one) => one.type)).toEqual(['Counted', 'Counted', 'Counted', 'Live']);
        expect(delivered[1]!.data).toEqual({ index: 5 });
        for (const revision of range(0, 16)) expect(asked).toContain(revision);
        if (options.exactCheckpoints) {
          // Interval 4: checkpoints after the 4th, 8th and 12th events considered (all of them
          // skipped) come before revision 15; skipped events count.
          expect(messages.map((message) => (message.kind === 'event' ? message.event.revision : message.kind))).toEqual(
            [0n, 'checkpoint', 5n, 'checkpoint', 10n, 'checkpoint', 'caughtUp', 15n],
          );
        }
        await expectRejection(() => store.subscribeToAll({ skip: 'yes' as never }), InvalidArgumentError, /skip must be a function/);
      });

      it('takes a writer on appends and a writer to leave out on subscriptions, which may leave out only that writer\'s appends', async () => {
        const before = await headPosition(store);
        const stream = streamName('writers');
        await store.append(`${stream}-mine`, events(3, 'Mine'), { writer: 'me' });
        await store.append(`${stream}-theirs`, events(2, 'Theirs'), { writer: 'them' });
        await store.append(`${stream}-unnamed`, events(1, 'Unnamed'));
        // Stored as any append: the writer is not part of the event.
        expect((await collect(() => store.readStream(`${stream}-mine`))).map((one) => one.type)).toEqual(['Mine', 'Mine', 'Mine']);
        const subscription = store.subscribeToAll({ fromPosition: before, filter: { streamNamePrefix: [stream] }, excludeWriter: 'me' });
        const messages = await takeUntil(subscription, (seen) => seen.some((message) => message.kind === 'caughtUp'));
        const types = eventsOf(messages).map((one) => one.type);
        // Everyone else's appends are delivered; the excluded writer's may be (EventStoreDB, the embedded store) or not (our server).
        expect(types.filter((type) => type !== 'Mine')).toEqual(['Theirs', 'Theirs', 'Unnamed']);
        expect([0, 3]).toContain(types.filter((type) => type === 'Mine').length);
        await expectRejection(() => store.append(stream, events(1), { writer: 'naïve' }), InvalidArgumentError, /writer must be 1 to 128 printable ASCII characters/);
        await expectRejection(() => store.subscribeToAll({ excludeWriter: '' }), InvalidArgumentError, /excludeWriter must be/);
      });

      it('ends a pending iteration when unsubscribed', async () => {
        const stream = streamName('stop');
        await store.append(stream, [event('Only')]);
        const subscription = store.subscribeToStream(stream);
        const seen: SubscriptionMessage[] = [];
        const consumer = (async () => {
          for await (const message of subscription) {
            seen.push(message);
            if (message.kind === 'caughtUp') setTimeout(() => void subscription.unsubscribe(), 10);
          }
        })();
        await consumer;
        expect(seen.map((message) => message.kind)).toEqual(['event', 'caughtUp']);
        await subscription.unsubscribe();
      });

      it('ends subscriptions on close, after which the store refuses calls', async () => {
        const stream = streamName('closing');
        await store.append(stream, [event('Only')]);
        const subscription = store.subscribeToStream(stream);
        // Read up to caughtUp (not a fixed wait: a loaded machine may take longer to get there),
        // then close while the next read waits for live events: closing must end it.
        const iterator = subscription[Symbol.asyncIterator]();
        const seen: string[] = [];
        for (let next = await iterator.next(); !next.done; next = await iterator.next()) {
          seen.push(next.value.kind);
          if (next.value.kind === 'caughtUp') break;
        }
        expect(seen).toEqual(['event', 'caughtUp']);
        const waiting = iterator.next();
        await store.close();
        expect((await waiting).done).toBe(true);
        await expectRejection(() => store.append(stream, [event('Late')]), StoreClosedError);
        await expectRejection(() => collect(() => store.readStream(stream)), StoreClosedError);
      });
    });

    describe('deleting streams', () => {
      it('soft delete: the stream reads as not found, and a later append continues its numbering', async () => {
        const stream = streamName('soft');
        await store.append(stream, events(3));
        await expectRejection(() => store.deleteStream(stream, { expectedRevision: 1n }), WrongExpectedVersionError);
        await store.deleteStream(stream, { expectedRevision: 2n });
        await expectRejection(() => collect(() => store.readStream(stream)), StreamNotFoundError);

        const result = await store.append(stream, [event('Reborn')], { expectedRevision: 'no_stream' });
        expect(result.nextExpectedRevision).toBe(3n);
        const read = await collect(() => store.readStream(stream));
        expect(read.map((one) => [one.revision, one.type])).toEqual([[3n, 'Reborn']]);
        await store.append(stream, [event('Again')], { expectedRevision: 3n });
        expect(revisionsOf(await collect(() => store.readStream(stream, { direction: 'backwards' })))).toEqual([4n, 3n]);
      });

      it('a soft-deleted stream accepts an append with any expectation', async () => {
        const stream = streamName('soft-any');
        await store.append(stream, events(2));
        await store.deleteStream(stream);
        expect((await store.append(stream, [event('Next')])).nextExpectedRevision).toBe(2n);
      });

      it('tombstone: reads, appends and deletes of the stream fail for good', async () => {
        const stream = streamName('tomb');
        await store.append(stream, events(2));
        await store.tombstoneStream(stream, { expectedRevision: 1n });
        await expectRejection(() => collect(() => store.readStream(stream)), StreamDeletedError);
        await expectRejection(() => store.append(stream, [event('Zombie')]), StreamDeletedError);
        await expectRejection(() => store.append(stream, [event('Zombie')], { expectedRevision: 'no_stream' }), StreamDeletedError);
        await expectRejection(() => store.tombstoneStream(stream), StreamDeletedError);
        await expectRejection(() => store.deleteStream(stream), StreamDeletedError);
        // Its metadata is gone for good too.
        await expectRejection(() => store.setStreamMetadata(stream, { maxCount: 1 }), StreamDeletedError);
      });

      it('checks the expectation of a delete, and counts a soft-deleted stream as not existing', async () => {
        const stream = streamName('delete-expect');
        await store.append(stream, events(2));
        const refused = (await expectRejection(() => store.deleteStream(stream, { expectedRevision: 'no_stream' }), WrongExpectedVersionError)) as WrongExpectedVersionError;
        expect([refused.expected, refused.actual]).toEqual(['no_stream', 1n]);
        await expectRejection(() => store.tombstoneStream(stream, { expectedRevision: 0n }), WrongExpectedVersionError);
        await store.deleteStream(stream, { expectedRevision: 1n });
        await expectRejection(() => store.append(stream, [event('Late')], { expectedRevision: 'stream_exists' }), WrongExpectedVersionError);
        await expectRejection(() => store.deleteStream(stream, { expectedRevision: 'stream_exists' }), WrongExpectedVersionError);
      });

      it('records a soft delete as a truncation point in the metadata, which metadata set without it lifts', async () => {
        const stream = streamName('undeleted');
        await store.append(stream, events(3));
        await store.setStreamMetadata(stream, { custom: { owner: 'a' } });
        await store.deleteStream(stream);
        expect(await store.getStreamMetadata(stream)).toEqual({ truncateBefore: 3n, custom: { owner: 'a' } });
        await store.setStreamMetadata(stream, { maxCount: 10 });
        expect(await store.getStreamMetadata(stream)).toEqual({ maxCount: 10 });
        expect(revisionsOf(await collect(() => store.readStream(stream)))).toEqual([0n, 1n, 2n]);
      });

      it('deletes with stream_exists only a stream that exists', async () => {
        const removals = {
          delete: (name: string) => store.deleteStream(name, { expectedRevision: 'stream_exists' }),
          tombstone: (name: string) => store.tombstoneStream(name, { expectedRevision: 'stream_exists' }),
        };
        for (const [kind, remove] of Object.entries(removals)) {
          const missing = streamName(`never-written-${kind}`);
          await expectRejection(() => remove(missing), WrongExpectedVersionError);
          // Refused, not done: the name is still free for a new stream.
          expect((await store.append(missing, [event('First')], { expectedRevision: 'no_stream' })).nextExpectedRevision).toBe(0n);
          const present = streamName(`present-${kind}`);
          await store.append(present, events(2));
          await remove(present);
          await expectRejection(() => collect(() => store.readStream(present)), Error);
        }
      });
    });

    describe('stream metadata', () => {
      it('hides events older than maxAge from stream reads (not from $all)', async () => {
        const stream = streamName('aged');
        const before = await headPosition(store);
        await store.append(stream, events(2));
        await store.setStreamMetadata(stream, { maxAge: 1 });
        // Let the first two age past the smallest maxAge, one second (waiting, not asserting a time).
        await new Promise((resolve) => setTimeout(resolve, 1_200));
        await store.append(stream, [event('Fresh')]);
        expect(revisionsOf(await collect(() => store.readStream(stream)))).toEqual([2n]);
        expect(revisionsOf(await collect(() => store.readStream(stream, { direction: 'backwards' })))).toEqual([2n]);
        const all = await collect(() => store.readAll({ fromPosition: before }));
        expect(revisionsOf(all.filter((one) => one.stream === stream))).toEqual([0n, 1n, 2n]);
      });

      it('stores and returns metadata, versioned by its own expected revision', async () => {
        const stream = streamName('meta');
        expect(await store.getStreamMetadata(stream)).toBeUndefined();
        const first = await store.setStreamMetadata(stream, { maxAge: 3600, custom: { owner: 'team-a' } }, { expectedRevision: 'no_stream' });
        expect(first.nextExpectedRevision).toBe(0n);
        expect(await store.getStreamMetadata(stream)).toEqual({ maxAge: 3600, custom: { owner: 'team-a' } });
        await expectRejection(() => store.setStreamMetadata(stream, { maxCount: 1 }, { expectedRevision: 'no_stream' }), WrongExpectedVersionError);
        expect((await store.setStreamMetadata(stream, { maxCount: 7 }, { expectedRevision: 0n })).nextExpectedRevision).toBe(1n);
        expect(await store.getStreamMetadata(stream)).toEqual({ maxCount: 7 });
      });

      it('honours $maxCount and $tb when reading the stream', async () => {
        const counted = streamName('max-count');
        await store.append(counted, events(5));
        await store.setStreamMetadata(counted, { maxCount: 2 });
        expect(revisionsOf(await collect(() => store.readStream(counted)))).toEqual([3n, 4n]);
        expect(revisionsOf(await collect(() => store.readStream(counted, { direction: 'backwards' })))).toEqual([4n, 3n]);

        const truncated = streamName('truncated');
        await store.append(truncated, events(5));
        await store.setStreamMetadata(truncated, { truncateBefore: 2n });
        expect(revisionsOf(await collect(() => store.readStream(truncated)))).toEqual([2n, 3n, 4n]);
      });
    });

    describe('argument validation (nothing is written)', () => {
      const invalid = async (action: () => unknown, message: RegExp) => expectRejection(action, InvalidArgumentError, message);

      it('rejects malformed stream names', async () => {
        await invalid(() => store.append('', [event('A')]), /stream/);
        await invalid(() => store.append('bad\u0000name', [event('A')]), /NUL/);
        await invalid(() => store.append('x'.repeat(5000), [event('A')]), /stream/);
        await invalid(() => collect(() => store.readStream('')), /stream/);
      });

      it('rejects bad events, naming the field and the index, and writes none of the append', async () => {
        const stream = streamName('invalid');
        const cases: [unknown, RegExp][] = [
          [{ id: 'not-a-uuid', type: 'A', data: {} }, /events\[1\]\.id/],
          [{ ...event('A'), type: '' }, /events\[1\]\.type/],
          [{ ...event('A'), data: { callback: () => 1 } }, /events\[1\]\.data\.callback/],
          [{ ...event('A'), data: { missing: undefined } }, /events\[1\]\.data\.missing/],
          [{ ...event('A'), data: { ratio: Number.NaN } }, /events\[1\]\.data\.ratio/],
          [{ ...event('A'), data: [1, Infinity] }, /events\[1\]\.data\[1\]/],
          [{ ...event('A'), data: { big: 10n } }, /events\[1\]\.data\.big/],
          [{ ...event('A'), data: undefined }, /events\[1\]\.data/],
          [{ ...event('A'), metadata: 'text' }, /events\[1\]\.metadata/],
          [{ ...event('A'), data: new Map() }, /events\[1\]\.data/],
          // toJSON would turn these into something else: refused, named by their full path.
          [{ ...event('A'), data: { at: new Date(0) } }, /events\[1\]\.data\.at is an instance of Date/],
          [{ ...event('A'), data: { nested: { list: [new Date(0)] } } }, /events\[1\]\.data\.nested\.list\[0\] is an instance of Date/],
          [{ ...event('A'), data: { custom: { toJSON: () => 'x' } } }, /events\[1\]\.data\.custom has a toJSON method/],
        ];
        const cyclic: Record<string, unknown> = {};
        cyclic.self = cyclic;
        cases.push([{ ...event('A'), data: cyclic }, /events\[1\]\.data.*cycle/]);
        for (const [bad, message] of cases) {
          await invalid(() => store.append(stream, [event('Fine'), bad as never]), message);
        }
        await expectRejection(() => collect(() => store.readStream(stream)), StreamNotFoundError);
      });

      it('rejects negative and non-integer counts and revisions', async () => {
        const stream = streamName('counts');
        await store.append(stream, [event('A')]);
        await invalid(() => collect(() => store.readStream(stream, { maxCount: -1 })), /maxCount/);
        await invalid(() => collect(() => store.readStream(stream, { maxCount: 1.5 })), /maxCount/);
        await invalid(() => collect(() => store.readStream(stream, { maxCount: -2n })), /maxCount/);
        await invalid(() => collect(() => store.readStream(stream, { fromRevision: -1n })), /fromRevision/);
        await invalid(() => collect(() => store.readAll({ maxCount: -1 })), /maxCount/);
        await invalid(() => store.append(stream, [event('B')], { expectedRevision: -1n }), /expectedRevision/);
        await invalid(() => store.subscribeToAll({ checkpointInterval: 0, filter: { eventTypePrefix: ['A'] } }), /checkpointInterval/);
        await invalid(() => collect(() => store.readAll({ filter: { streamNameRegex: '(' } })), /streamNameRegex/);
        expect(await collect(() => store.readStream(stream))).toHaveLength(1);
      });
    });
  });
}
