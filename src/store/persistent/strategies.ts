/**
 * Consumer strategies: which consumer gets an event. `'full'` means no consumer can take any event
 * now (stop handing out); `'wait'` means this event must wait for its consumer (Pinned) while others
 * may go ahead. Round robin keeps its turn across calls by rotating the consumer list.
 */
import { linkTarget } from '../links.js';
import type { RecordedEvent } from '../port.js';
import type { GroupConsumer } from './consumer.js';
import type { ConsumerStrategy } from './port.js';

/** EventStoreDB's Pinned strategy hashes the stream into 1024 buckets shared out among consumers. */
const PINNED_BUCKETS = 1024;

export function pickConsumer(strategy: ConsumerStrategy, consumers: GroupConsumer[], event: RecordedEvent): GroupConsumer | 'full' | 'wait' {
  if (strategy === 'Pinned') {
    if (!consumers.some((consumer) => consumer.availableSlots > 0)) return 'full';
    const consumer = consumers[bucketOf(sourceStreamOf(event)) % consumers.length]!;
    return consumer.availableSlots > 0 ? consumer : 'wait';
  }
  const index = consumers.findIndex((consumer) => consumer.availableSlots > 0);
  if (index < 0) return 'full';
  const chosen = consumers[index]!;
  if (strategy === 'RoundRobin') {
    // The chosen one goes to the back of the line.
    consumers.splice(index, 1);
    consumers.push(chosen);
  }
  return chosen;
}

/** The stream an event pins to: its own, or for a link not resolved, its target's (EventStoreDB's GetSourceStreamId). */
function sourceStreamOf(event: RecordedEvent): string {
  return linkTarget(event)?.stream ?? event.stream;
}

/** A stable hash of the stream name (FNV-1a), so a stream keeps its consumer across restarts too. */
function bucketOf(stream: string): number {
  let hash = 0x811c9dc5;
  for (let index = 0; index < stream.length; index++) {
    hash ^= stream.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % PINNED_BUCKETS;
}
