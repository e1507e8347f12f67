/**
 * Lag: how many events of a projection's streams are in `$all` after its checkpoint. Counted by
 * reading forward with the same filter the runner uses (positions are not event counts on
 * EventStoreDB), capped so that asking never costs more than reading `cap` events.
 */
import type { EventStore, Position } from '../store/port.js';
import type { StreamFilter } from './projection.js';

export interface Lag {
  /** Events behind the head (at least this many when `capped`). */
  readonly events: number;
  readonly capped: boolean;
  /** Position of the newest matching event, if any is after the checkpoint. */
  readonly head: Position | undefined;
}

export async function countEventsAfter(
  store: EventStore,
  after: Position | undefined,
  filter: StreamFilter,
  cap = 100_000,
): Promise<Lag> {
  let events = 0;
  let head: Position | undefined;
  for await (const event of store.readAll({
    fromPosition: after ?? 'start',
    filter,
    maxCount: cap + 1,
  })) {
    if (events === cap) return { events, capped: true, head };
    events += 1;
    head = event.position;
  }
  return { events, capped: false, head };
}
