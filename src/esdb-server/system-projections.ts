/**
 * EventStoreDB's four standard system projections, written as link events (`$>`) behind the
 * commit by a follower, as EventStoreDB's projections subsystem writes them:
 * - `$by_category`: every event of stream `<category>-<rest>` linked in `$ce-<category>`;
 * - `$by_event_type`: every event linked in `$et-<type>`;
 * - `$streams`: the first event of every stream linked in `$streams`;
 * - `$stream_by_category`: the first event of every stream with a category linked in `$category-<category>`.
 * The category is the stream name before its first '-' (EventStoreDB's default); streams whose name
 * starts with '$' are system streams and are not projected.
 *
 * Links carry EventStoreDB's link metadata (`$c`/`$p` the source position, `$o` the source stream,
 * `$causedBy` its id). A link's id is a uuid v5 of its projection stream and source position, so
 * projecting an event again is an idempotent re-append. On start the follower resumes at the source
 * position of the newest link in the log: links are appended in source order through one queue,
 * so everything before it was linked, and that event's own links are re-appended harmlessly.
 */
import { v5 as uuidV5 } from 'uuid';
import { StoreClosedError } from '../store/errors.js';
import { linkEvent, LINK_EVENT_TYPE } from '../store/links.js';
import type { EventStore, JsonObject, Position, RecordedEvent } from '../store/port.js';

/** Namespace of link event ids (uuid v5). Never change it: ids of stored links depend on it. */
const LINK_NAMESPACE = '1b4e28ba-2fa1-41d2-883f-0016d3cca427';
/** Source events whose links may be in flight before the follower waits for them. */
const IN_FLIGHT = 256;

export interface SystemProjections {
  /** Stop following; links already handed to the store are written. */
  stop(): Promise<void>;
}

/** The category of a stream: its name before the first '-', or undefined (no '-', or a system stream). */
export function categoryOf(stream: string): string | undefined {
  const dash = stream.indexOf('-');
  return dash > 0 ? stream.slice(0, dash) : undefined;
}

/** The projection streams an event is linked into. */
export function projectionStreamsOf(event: RecordedEvent): string[] {
  const category = categoryOf(event.stream);
  const streams = [`$et-${event.type}`];
  if (category !== undefined) streams.unshift(`$ce-${category}`);
  if (event.revision === 0n) {
    streams.push('$streams');
    if (category !== undefined) streams.push(`$category-${category}`);
  }
  return streams;
}

function isProjectionStream(stream: string): boolean {
  return stream.startsWith('$ce-') || stream.startsWith('$et-') || stream === '$streams' || stream.startsWith('$category-');
}

/** Where to resume: just before the source of the newest link, or the start. */
async function resumePosition(store: EventStore): Promise<Position | 'start'> {
  for await (const event of store.readAll({ direction: 'backwards', filter: { eventTypePrefix: [LINK_EVENT_TYPE] } })) {
    if (!isProjectionStream(event.stream) || event.metadata instanceof Uint8Array) continue;
    const commit = event.metadata['$c'];
    if (typeof commit !== 'number' || commit < 1) continue;
    return { commit: BigInt(commit - 1), prepare: BigInt(commit - 1) };
  }
  return 'start';
}

function linkMetadata(event: RecordedEvent): JsonObject {
  return { $c: Number(event.position.commit), $p: Number(event.position.prepare), $o: event.stream, $causedBy: event.id };
}

/**
 * Follow the store's log and write the system projections' links. `onError` hears of a failure
 * that stops the follower (a closed store is a normal end).
 */
export function startSystemProjections(store: EventStore, onError: (error: unknown) => void): SystemProjections {
  let stopped = false;
  let subscription: ReturnType<EventStore['subscribeToAll']> | undefined;
  const run = async () => {
    const from = await resumePosition(store);
    if (stopped) return;
    // System streams (the links included) are filtered out by the store, not read.
    subscription = store.subscribeToAll({ fromPosition: from, filter: { streamNameRegex: '^[^$]' } });
    const inFlight: Promise<unknown>[] = [];
    let live = false;
    for await (const message of subscription) {
      if (message.kind === 'caughtUp') live = true;
      if (message.kind !== 'event') continue;
      const source = message.event;
      const metadata = linkMetadata(source);
      for (const stream of projectionStreamsOf(source)) {
        const id = uuidV5(`${stream}@${source.position.commit}/${source.position.prepare}`, LINK_NAMESPACE);
        inFlight.push(store.append(stream, [linkEvent(id, source, metadata)]));
      }
      if (live || inFlight.length >= IN_FLIGHT) await Promise.all(inFlight.splice(0));
    }
    await Promise.all(inFlight);
  };
  const running = run().catch((error: unknown) => {
    if (!(error instanceof StoreClosedError) && !stopped) onError(error);
  });
  return {
    stop: async () => {
      stopped = true;
      await subscription?.unsubscribe();
      await running;
    },
  };
}
