/**
 * Link events and resolveLinkTos in the store contract: a `$>` event whose data is
 * `<revision>@<stream>` stands for that event; reads and subscriptions deliver the target with its
 * link when asked to resolve, the link as it is otherwise, and a link whose target is gone as itself.
 */
import { randomUUID } from 'node:crypto';
import { expect, it } from 'vitest';
import { LINK_EVENT_TYPE, linkData } from '../../../src/store/links.js';
import type { EventData, EventStore, RecordedEvent } from '../../../src/store/port.js';
import { collect, event, eventsOf, takeUntil } from './helpers.js';

const link = (stream: string, revision: bigint): EventData => ({ id: randomUUID(), type: LINK_EVENT_TYPE, data: linkData(stream, revision) });
const text = (data: unknown) => Buffer.from(data as Uint8Array).toString('utf8');
const untilCaughtUp = (messages: readonly { kind: string }[]) => messages.some((message) => message.kind === 'caughtUp');

export function describeLinksContract(currentStore: () => EventStore, streamName: (suffix: string) => string): void {
  /** A target stream of two events, and a stream linking to its second, its first, and a revision it never had. */
  async function linked(store: EventStore) {
    const target = streamName('target');
    const links = streamName('links');
    await store.append(target, [event('First', { n: 0 }), event('Second', { n: 1 })]);
    await store.append(links, [link(target, 1n), link(target, 0n), link(target, 7n)]);
    return { target, links };
  }

  /** What resolved reads must give: the targets with their links, then the broken link as itself. */
  function expectResolved(read: readonly RecordedEvent[], target: string, links: string) {
    expect(read.map((one) => [one.stream, one.revision, one.type, one.data])).toEqual([
      [target, 1n, 'Second', { n: 1 }],
      [target, 0n, 'First', { n: 0 }],
      [links, 2n, LINK_EVENT_TYPE, expect.any(Uint8Array)],
    ]);
    expect(read.map((one) => [one.link?.stream, one.link?.revision, one.link?.type])).toEqual([
      [links, 0n, LINK_EVENT_TYPE], [links, 1n, LINK_EVENT_TYPE], [undefined, undefined, undefined],
    ]);
    expect(text(read[2]?.data)).toBe(`7@${target}`);
  }

  it('reads link events as they are, or resolved to their targets with resolveLinkTos', async () => {
    const store = currentStore();
    const { target, links } = await linked(store);
    const plain = await collect(() => store.readStream(links));
    expect(plain.map((one) => [one.type, text(one.data), one.link])).toEqual([
      [LINK_EVENT_TYPE, `1@${target}`, undefined], [LINK_EVENT_TYPE, `0@${target}`, undefined], [LINK_EVENT_TYPE, `7@${target}`, undefined],
    ]);
    expectResolved(await collect(() => store.readStream(links, { resolveLinkTos: true })), target, links);
    expectResolved((await collect(() => store.readStream(links, { resolveLinkTos: true, direction: 'backwards' }))).reverse(), target, links);
    // Reading the target itself is unaffected.
    expect((await collect(() => store.readStream(target, { resolveLinkTos: true }))).map((one) => one.link)).toEqual([undefined, undefined]);
  });

  it('resolves links in $all reads and in stream and $all subscriptions, each at the link\'s place', async () => {
    const store = currentStore();
    const { target, links } = await linked(store);
    const fromAll = await collect(() => store.readAll({ filter: { streamNamePrefix: [links] }, resolveLinkTos: true }));
    expectResolved(fromAll, target, links);
    const linkPositions = (await collect(() => store.readAll({ filter: { streamNamePrefix: [links] } }))).map((one) => one.position);
    expect(fromAll.map((one) => (one.link ?? one).position)).toEqual(linkPositions);

    expectResolved(eventsOf(await takeUntil(store.subscribeToStream(links, { resolveLinkTos: true }), untilCaughtUp)), target, links);
    const fromSubscription = eventsOf(await takeUntil(store.subscribeToAll({ filter: { streamNamePrefix: [links] }, resolveLinkTos: true }), untilCaughtUp));
    expectResolved(fromSubscription, target, links);
  });

  it('delivers a link whose target stream was deleted as the link itself', async () => {
    const store = currentStore();
    const { target, links } = await linked(store);
    await store.deleteStream(target);
    const read = await collect(() => store.readStream(links, { resolveLinkTos: true }));
    expect(read.map((one) => [one.stream, one.type, text(one.data), one.link])).toEqual([
      [links, LINK_EVENT_TYPE, `1@${target}`, undefined], [links, LINK_EVENT_TYPE, `0@${target}`, undefined], [links, LINK_EVENT_TYPE, `7@${target}`, undefined],
    ]);
  });
}
