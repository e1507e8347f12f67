/**
 * Link events, as EventStoreDB has them: an event of type `$>` whose data is the text
 * `<revision>@<stream>`, standing for that event of that stream (system projections such as
 * `$by_category` are streams of them). Reading with `resolveLinkTos` delivers the event a link
 * points at, carrying the link as `link`; a link whose target is gone (deleted, truncated, never
 * written) is delivered as itself, as EventStoreDB delivers it with no event. Generic over the port,
 * so every backend that stores links resolves them the same way.
 */
import { StreamDeletedError, StreamNotFoundError } from './errors.js';
import type { EventData, EventStore, RecordedEvent, Subscription, SubscriptionMessage } from './port.js';

export const LINK_EVENT_TYPE = '$>';

/** The data of a link to `stream`'s event at `revision`. */
export function linkData(stream: string, revision: bigint): Uint8Array {
  return new Uint8Array(Buffer.from(`${revision}@${stream}`, 'utf8'));
}

/** A link event to append (binary, as EventStoreDB writes them). */
export function linkEvent(id: string, target: RecordedEvent, metadata?: EventData['metadata']): EventData {
  return { id, type: LINK_EVENT_TYPE, data: linkData(target.stream, target.revision), ...(metadata ? { metadata } : {}) };
}

/** Where a link event points, or undefined for any other event (or a malformed link). */
export function linkTarget(event: RecordedEvent): { readonly stream: string; readonly revision: bigint } | undefined {
  if (event.type !== LINK_EVENT_TYPE) return undefined;
  const text = event.data instanceof Uint8Array ? Buffer.from(event.data).toString('utf8') : typeof event.data === 'string' ? event.data : undefined;
  const match = text === undefined ? null : /^(\d+)@(.+)$/s.exec(text);
  if (!match) return undefined;
  return { stream: match[2] as string, revision: BigInt(match[1] as string) };
}

async function readTarget(store: EventStore, stream: string, revision: bigint): Promise<RecordedEvent | undefined> {
  try {
    for await (const event of store.readStream(stream, { fromRevision: revision, maxCount: 1 })) {
      return event.revision === revision ? event : undefined;
    }
  } catch (error) {
    if (error instanceof StreamNotFoundError || error instanceof StreamDeletedError) return undefined;
    throw error;
  }
  return undefined;
}

/** The event a link stands for, carrying the link; any other event (or a broken link) as it is. */
export async function resolveLink(store: EventStore, event: RecordedEvent): Promise<RecordedEvent> {
  const target = linkTarget(event);
  if (!target) return event;
  const resolved = await readTarget(store, target.stream, target.revision);
  return resolved ? { ...resolved, link: event } : event;
}

export async function* resolveLinks(store: EventStore, events: AsyncIterable<RecordedEvent>): AsyncIterable<RecordedEvent> {
  for await (const event of events) yield await resolveLink(store, event);
}

/** A subscription whose events are resolved as they are delivered. */
export function resolvingSubscription(store: EventStore, subscription: Subscription): Subscription {
  return {
    unsubscribe: () => subscription.unsubscribe(),
    async *[Symbol.asyncIterator](): AsyncIterator<SubscriptionMessage> {
      for await (const message of subscription) {
        yield message.kind === 'event' ? { kind: 'event', event: await resolveLink(store, message.event) } : message;
      }
    },
  };
}
