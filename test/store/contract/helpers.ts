/** Small helpers for the event store contract: unique names, events, draining iterables. */
import { randomUUID } from 'node:crypto';
import { START_POSITION, type EventData, type EventStore, type Json, type JsonObject, type Position, type Subscription, type SubscriptionMessage } from '../../../src/store/port.js';

/** A name no other test (nor another run on a shared server) uses. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${randomUUID().replaceAll('-', '').slice(0, 12)}`;
}

export function event(type: string, data: Json = {}, metadata?: JsonObject): EventData {
  return metadata === undefined ? { id: randomUUID(), type, data } : { id: randomUUID(), type, data, metadata };
}

export function events(count: number, type = 'Counted'): EventData[] {
  return Array.from({ length: count }, (_, index) => event(type, { index }));
}

/** Drain an iterable; opening it inside the async function turns a synchronous throw into a rejection. */
export async function collect<T>(open: () => AsyncIterable<T>): Promise<T[]> {
  const items: T[] = [];
  for await (const item of open()) items.push(item);
  return items;
}

/** Position of the last event in `$all`, or the start: reading forwards from it sees only newer events. */
export async function headPosition(store: EventStore): Promise<Position> {
  for await (const recorded of store.readAll({ direction: 'backwards', maxCount: 1 })) return recorded.position;
  return START_POSITION;
}

/** Read a subscription until `done` says so, then unsubscribe. */
export async function takeUntil(
  subscription: Subscription,
  done: (messages: readonly SubscriptionMessage[]) => boolean,
): Promise<SubscriptionMessage[]> {
  const messages: SubscriptionMessage[] = [];
  try {
    for await (const message of subscription) {
      messages.push(message);
      if (done(messages)) break;
    }
  } finally {
    await subscription.unsubscribe();
  }
  return messages;
}

export function eventsOf(messages: readonly SubscriptionMessage[]) {
  return messages.flatMap((message) => (message.kind === 'event' ? [message.event] : []));
}
