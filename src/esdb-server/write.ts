/**
 * One append, whichever RPC carried it: ordinary streams go to the store as they are; an append to
 * `$$<stream>` sets the stream's metadata from its last `$metadata` event; `$all` is never written.
 */
import { AccessDeniedError } from '../store/errors.js';
import type { AppendResult, EventData, ExpectedRevision } from '../store/port.js';
import type { HandlerContext } from './context.js';
import { rpcErrors } from './errors.js';
import { describedStream, METADATA_EVENT_TYPE, metadataFromJson } from './metastream.js';

export async function writeEvents(
  context: HandlerContext,
  stream: string,
  events: readonly EventData[],
  expectedRevision: ExpectedRevision,
  /** The call's `cadenza-writer` header (writers.ts): remembered with the stored events. */
  writer?: string,
): Promise<AppendResult> {
  refuseAllStream(stream);
  const target = describedStream(stream);
  if (target === undefined) {
    const appended = context.store.append(stream, events, { expectedRevision });
    if (writer === undefined) return appended;
    // Remembered as the store answers: before the store wakes its live subscribers (a turn later).
    const recorded = appended.then((result) => {
      context.writers.record(writer, stream, result.nextExpectedRevision, events.length);
      return result;
    });
    // Noted while under way too, when its revisions are known: a subscription may read the events
    // before the answer is here (writers.ts).
    const first = expectedRevision === 'no_stream' ? 0n : typeof expectedRevision === 'bigint' ? expectedRevision + 1n : undefined;
    if (first !== undefined && events.length > 0) context.writers.underWay(writer, stream, first, first + BigInt(events.length - 1), recorded);
    return recorded;
  }
  const last = events.at(-1);
  if (!last || last.type !== METADATA_EVENT_TYPE) {
    throw rpcErrors.invalidArgument(`Only ${METADATA_EVENT_TYPE} events can be written to metadata stream '${stream}'`);
  }
  return context.store.setStreamMetadata(target, metadataFromJson(last.data), { expectedRevision });
}

/**
 * `$all` is the log itself, not a stream: EventStoreDB refuses to write, delete or tombstone it for
 * everyone, admins included, with access-denied (its tests `write_to_all_is_never_allowed`,
 * `delete_of_all_is_never_allowed`). Without this the store would take `$all` as an ordinary name.
 */
const ALL_STREAM = '$all';

export function refuseAllStream(stream: string): void {
  if (stream === ALL_STREAM) throw new AccessDeniedError(`${ALL_STREAM} cannot be written, deleted or tombstoned`);
}

export class AppendSizeTracker {
  #size = 0;
  constructor(private readonly max: number) {}
  /** Adds one event's size; throws maximum-append-size-exceeded once the total passes the limit. */
  add(size: number): void {
    this.#size += size;
    if (this.#size > this.max) throw rpcErrors.maximumAppendSizeExceeded(this.max);
  }
}
