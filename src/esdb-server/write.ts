/**
 * One append, whichever RPC carried it: ordinary streams go to the store as they are; an append to
 * `$$<stream>` sets the stream's metadata from its last `$metadata` event.
 */
import type { AppendResult, EventData, ExpectedRevision } from '../store/port.js';
import type { HandlerContext } from './context.js';
import { rpcErrors } from './errors.js';
import { describedStream, METADATA_EVENT_TYPE, metadataFromJson } from './metastream.js';

export async function writeEvents(
  context: HandlerContext,
  stream: string,
  events: readonly EventData[],
  expectedRevision: ExpectedRevision,
): Promise<AppendResult> {
  const target = describedStream(stream);
  if (target === undefined) return context.store.append(stream, events, { expectedRevision });
  const last = events.at(-1);
  if (!last || last.type !== METADATA_EVENT_TYPE) {
    throw rpcErrors.invalidArgument(`Only ${METADATA_EVENT_TYPE} events can be written to metadata stream '${stream}'`);
  }
  return context.store.setStreamMetadata(target, metadataFromJson(last.data), { expectedRevision });
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
