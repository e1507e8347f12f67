/**
 * The event store port over EventStoreDB / KurrentDB through @eventstore/db-client. Any connection
 * string the client accepts works (`esdb://host:2113?tls=false`, `esdb+discover://…` clusters, TLS,
 * credentials). The adapter is thin: arguments are validated as every backend validates them, calls
 * go to the client, and client errors become port errors in one place (esdb-errors.ts).
 *
 * Differences it smooths over: EventStoreDB reads `$all` forwards from a position inclusively (the
 * port is exclusive both ways), the client's readAll has no server-side filter (applied here), and
 * EventStoreDB's own `$`-typed system events are left out of unfiltered `$all` reads and subscriptions.
 */
import {
  BACKWARDS, END, EventStoreDBClient, eventTypeFilter, FORWARDS, START, streamNameFilter,
  type AllStreamResolvedEvent, type ReadAllOptions as ClientReadAllOptions,
} from '@eventstore/db-client';
import { InvalidArgumentError, StoreClosedError, StreamNotFoundError, WrongExpectedVersionError } from './errors.js';
import { DirectAppender } from './esdb-append.js';
import { fromClientMetadata, toClientEvents, toClientMetadata, toRecordedEvent } from './esdb-convert.js';
import { translateClientError } from './esdb-errors.js';
import { openAllSubscription } from './esdb-subscribe.js';
import { ResilientSubscription, type EventHeader, type ResumePoint } from './esdb-subscription.js';
import { EsdbPersistentSubscriptions } from './esdb-persistent.js';
import {
  comparePositions, START_POSITION, type AllFilter, type AppendOptions, type AppendResult, type DeleteOptions,
  type DeleteResult, type EventData, type EventStore, type Position, type ReadAllOptions, type ReadStreamOptions,
  type RecordedEvent, type StreamMetadata, type SubscribeToAllOptions, type SubscribeToStreamOptions, type Subscription,
} from './port.js';
import {
  compileAllFilter, serializeEvents, type SerializedEvent, validateCheckpointInterval, validateSkip, validateCount, validateDirection, validateExpectedRevision,
  validatePositionBound, validateRevisionBound, validateStreamMetadata, validateStreamName, validateWriter,
} from './validation.js';

/** EventStoreDB's default max search window (ReadBatchSize); checkpoint interval = multiplier x window. */
const DEFAULT_WINDOW = 32;

/**
 * A system event of EventStoreDB's own (link events included): judged by what was read, the link when
 * one was resolved. Works on a header alone (the fast subscription path reads no more).
 */
const isSystemEvent = (event: EventHeader & { readonly link?: EventHeader }) => (event.link ?? event).type.startsWith('$');

function clientFilter(filter: AllFilter, checkpointInterval: number) {
  // Interval N = window x multiplier: keep the default window when N is a multiple of it.
  const window = checkpointInterval % DEFAULT_WINDOW === 0 ? {} : { maxSearchWindow: checkpointInterval };
  const multiplier = checkpointInterval % DEFAULT_WINDOW === 0 ? checkpointInterval / DEFAULT_WINDOW : 1;
  const base = { checkpointInterval: multiplier, ...window };
  if ('streamNamePrefix' in filter) return streamNameFilter({ ...base, prefixes: [...filter.streamNamePrefix] });
  if ('streamNameRegex' in filter) return streamNameFilter({ ...base, regex: filter.streamNameRegex });
  if ('eventTypePrefix' in filter) return eventTypeFilter({ ...base, prefixes: [...filter.eventTypePrefix] });
  return eventTypeFilter({ ...base, regex: filter.eventTypeRegex });
}

/**
 * Appends up to this many characters of type, data and metadata (at most 3 MiB of UTF-8) go out as
 * one request of the adapter's own (esdb-append.ts); larger ones through the client, which splits
 * its requests at 3 MiB. (EventStoreDB refuses appends above 1 MiB by default anyway.)
 */
const ONE_REQUEST_LIMIT = 1024 * 1024;

function fitsOneRequest(events: readonly SerializedEvent[]): boolean {
  let size = 0;
  for (const event of events) size += event.data.length + (event.metadata?.length ?? 0) + event.type.length;
  return size <= ONE_REQUEST_LIMIT;
}

export class EsdbEventStore implements EventStore {
  readonly #client: EventStoreDBClient;
  readonly #appender: DirectAppender;
  readonly #subscriptions = new Set<ResilientSubscription>();
  #closed = false;
  readonly persistentSubscriptions: EsdbPersistentSubscriptions;

  constructor(client: EventStoreDBClient) {
    this.#client = client;
    this.#appender = new DirectAppender(client);
    this.persistentSubscriptions = new EsdbPersistentSubscriptions(() => {
      this.#ensureOpen();
      return this.#client;
    });
  }

  #ensureOpen(): void {
    if (this.#closed) throw new StoreClosedError();
  }

  async append(stream: string, events: readonly EventData[], options: AppendOptions = {}): Promise<AppendResult> {
    this.#ensureOpen();
    validateStreamName(stream);
    const serialized = serializeEvents(events);
    const expectedRevision = validateExpectedRevision(options.expectedRevision);
    const writer = validateWriter(options.writer, 'writer');
    try {
      if (fitsOneRequest(serialized) && (await this.#appender.available())) return await this.#appender.append(stream, serialized, expectedRevision, writer);
    } catch (error) {
      throw translateClientError(error, { stream, expected: expectedRevision });
    }
    const proposed = toClientEvents(events, serialized);
    try {
      const result = await this.#client.appendToStream(stream, proposed, { expectedRevision });
      return {
        nextExpectedRevision: result.nextExpectedRevision,
        position: result.position ? { commit: result.position.commit, prepare: result.position.prepare } : START_POSITION,
      };
    } catch (error) {
      throw translateClientError(error, { stream, expected: expectedRevision });
    }
  }

  readStream(stream: string, options: ReadStreamOptions = {}): AsyncIterable<RecordedEvent> {
    const client = this.#client;
    const ensureOpen = () => this.#ensureOpen();
    return (async function* readStream() {
      ensureOpen();
      validateStreamName(stream);
      const direction = validateDirection(options.direction);
      const fromRevision = validateRevisionBound(options.fromRevision ?? (direction === 'backwards' ? 'end' : 'start'));
      const maxCount = validateCount(options.maxCount);
      if (maxCount === 0) return;
      const read = client.readStream(stream, {
        resolveLinkTos: options.resolveLinkTos === true,
        direction: direction === 'backwards' ? BACKWARDS : FORWARDS,
        fromRevision: fromRevision === 'start' ? START : fromRevision === 'end' ? END : fromRevision,
        ...(Number.isFinite(maxCount) ? { maxCount } : {}),
      });
      try {
        for await (const resolved of cancelledOnEarlyExit(read)) {
          const event = toRecordedEvent(resolved);
          if (event) yield event;
        }
      } catch (error) {
        throw translateClientError(error, { stream });
      }
    })();
  }

  readAll(options: ReadAllOptions = {}): AsyncIterable<RecordedEvent> {
    const client = this.#client;
    const ensureOpen = () => this.#ensureOpen();
    return (async function* readAll() {
      ensureOpen();
      const direction = validateDirection(options.direction);
      const from = validatePositionBound(options.fromPosition ?? (direction === 'backwards' ? 'end' : 'start'));
      const maxCount = validateCount(options.maxCount);
      const filter = compileAllFilter(options.filter);
      if (maxCount === 0) return;
      // EventStoreDB includes the event at the start position of a forward read: ask for one more.
      const requested = filter ? undefined : Number.isFinite(maxCount) ? maxCount + (typeof from === 'object' ? 1 : 0) : undefined;
      const clientOptions: ClientReadAllOptions = {
        resolveLinkTos: options.resolveLinkTos === true,
        direction: direction === 'backwards' ? BACKWARDS : FORWARDS,
        fromPosition: from === 'start' ? START : from === 'end' ? END : from,
        ...(requested !== undefined ? { maxCount: requested } : {}),
      };
      const read = client.readAll(clientOptions);
      let delivered = 0;
      try {
        for await (const resolved of cancelledOnEarlyExit(read)) {
          const event = toRecordedEvent(resolved as AllStreamResolvedEvent);
          if (!event) continue;
          if (typeof from === 'object') {
            const order = comparePositions((event.link ?? event).position, from);
            if (direction === 'forwards' ? order <= 0 : order >= 0) continue;
          }
          const read = event.link ?? event;
          if (filter ? !filter.matches(filter.on === 'stream' ? read.stream : read.type) : isSystemEvent(event)) continue;
          yield event;
          delivered += 1;
          if (delivered >= maxCount) return;
        }
      } catch (error) {
        throw translateClientError(error);
      }
    })();
  }

  subscribeToStream(stream: string, options: SubscribeToStreamOptions = {}): Subscription {
    this.#ensureOpen();
    validateStreamName(stream);
    const from = validateRevisionBound(options.fromRevision);
    return this.#track((onEnd) => new ResilientSubscription({
      kind: 'stream',
      open: (resume) => this.#client.subscribeToStream(stream, {
        resolveLinkTos: options.resolveLinkTos === true,
        fromRevision: resume && 'revision' in resume ? resume.revision : from === 'start' ? START : from === 'end' ? END : from,
      }),
    }, onEnd));
  }

  subscribeToAll(options: SubscribeToAllOptions = {}): Subscription {
    this.#ensureOpen();
    const from = validatePositionBound(options.fromPosition);
    const compiled = compileAllFilter(options.filter);
    const checkpointInterval = validateCheckpointInterval(options.checkpointInterval);
    const filter = compiled && options.filter ? options.filter : undefined;
    const startAt = (resume: ResumePoint | undefined): Position | typeof START | typeof END =>
      resume && 'position' in resume ? resume.position : from === 'start' ? START : from === 'end' ? END : from;
    const skip = validateSkip(options.skip);
    const excludeWriter = validateWriter(options.excludeWriter, 'excludeWriter');
    // The server sends whole events: `skip` is asked once their header is read (esdb-wire-event.ts),
    // and saves decoding their content.
    const deliver = (event: EventHeader) => (filter !== undefined || !isSystemEvent(event)) && !(skip && skip(event.stream, event.revision));
    return this.#track((onEnd) => new ResilientSubscription({
      kind: 'all',
      ...(filter && !skip ? {} : { deliver }),
      open: (resume, onCheckpoint) => {
        const fromPosition = startAt(resume);
        const serverFilter = filter ? { ...clientFilter(filter, checkpointInterval), checkpointReached: onCheckpoint } : undefined;
        // The header-first path does not resolve links: a subscription that asks for them takes the client's own.
        // Only this path asks the server to leave the writer's appends out (the client's own sends no such header).
        const fast = options.resolveLinkTos === true ? undefined : openAllSubscription(this.#client, fromPosition, serverFilter, excludeWriter);
        return fast ?? this.#client.subscribeToAll({ resolveLinkTos: options.resolveLinkTos === true, fromPosition, ...(serverFilter ? { filter: serverFilter } : {}) });
      },
    }, onEnd));
  }

  #track(create: (onEnd: () => void) => ResilientSubscription): Subscription {
    const holder: { subscription?: ResilientSubscription } = {};
    const subscription = create(() => {
      if (holder.subscription) this.#subscriptions.delete(holder.subscription);
    });
    holder.subscription = subscription;
    this.#subscriptions.add(subscription);
    return subscription;
  }

  async deleteStream(stream: string, options: DeleteOptions = {}): Promise<DeleteResult> {
    return this.#delete(stream, options, false);
  }

  async tombstoneStream(stream: string, options: DeleteOptions = {}): Promise<DeleteResult> {
    return this.#delete(stream, options, true);
  }

  async #delete(stream: string, options: DeleteOptions, tombstone: boolean): Promise<DeleteResult> {
    this.#ensureOpen();
    validateStreamName(stream);
    const expected = validateExpectedRevision(options.expectedRevision);
    try {
      const expectedRevision = expected === 'stream_exists' ? await this.#lastRevision(stream) : expected;
      const result = tombstone
        ? await this.#client.tombstoneStream(stream, { expectedRevision })
        : await this.#client.deleteStream(stream, { expectedRevision });
      return { position: result.position ? { commit: result.position.commit, prepare: result.position.prepare } : START_POSITION };
    } catch (error) {
      throw translateClientError(error, { stream, expected });
    }
  }

  /**
   * The client cannot send stream_exists on a delete (its type allows any, no_stream or a revision):
   * the adapter checks existence itself and deletes at the revision it found.
   */
  async #lastRevision(stream: string): Promise<bigint> {
    try {
      for await (const event of this.readStream(stream, { direction: 'backwards', maxCount: 1 })) return event.revision;
    } catch (error) {
      if (!(error instanceof StreamNotFoundError)) throw error;
    }
    throw new WrongExpectedVersionError(stream, 'stream_exists', 'no_stream');
  }

  async setStreamMetadata(stream: string, metadata: StreamMetadata, options: AppendOptions = {}): Promise<AppendResult> {
    this.#ensureOpen();
    validateStreamName(stream);
    const valid = validateStreamMetadata(metadata);
    const expectedRevision = validateExpectedRevision(options.expectedRevision);
    try {
      const result = await this.#client.setStreamMetadata(stream, toClientMetadata(valid), { expectedRevision });
      return {
        nextExpectedRevision: result.nextExpectedRevision,
        position: result.position ? { commit: result.position.commit, prepare: result.position.prepare } : START_POSITION,
      };
    } catch (error) {
      throw translateClientError(error, { stream: `$$${stream}`, expected: expectedRevision });
    }
  }

  async getStreamMetadata(stream: string): Promise<StreamMetadata | undefined> {
    this.#ensureOpen();
    validateStreamName(stream);
    try {
      const result = await this.#client.getStreamMetadata(stream);
      return result.metadata ? fromClientMetadata(result.metadata) : undefined;
    } catch (error) {
      throw translateClientError(error, { stream });
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.all([...this.#subscriptions].map((subscription) => subscription.unsubscribe()));
    await this.#client.dispose();
  }
}

/**
 * A client read's events; left before its end, the call is cancelled first and the stream closed
 * after. The other way round (what leaving a `for await` over the stream does) leaves the call
 * paused with its end unread, and the client's `dispose` then waits for it forever.
 */
async function* cancelledOnEarlyExit<T>(read: AsyncIterable<T> & { cancel(): Promise<void> }): AsyncGenerator<T> {
  const iterator = read[Symbol.asyncIterator]();
  let ended = false;
  try {
    for (;;) {
      const next = await iterator.next();
      if (next.done) {
        ended = true;
        return;
      }
      yield next.value;
    }
  } finally {
    if (!ended) {
      await read.cancel().catch(() => undefined);
      await Promise.resolve(iterator.return?.()).catch(() => undefined);
    }
  }
}

/** Open the adapter for a connection string (`esdb://…`, `esdb+discover://…`). Connects lazily. */
export async function openEsdbStore(connectionString: string): Promise<EventStore> {
  let client: EventStoreDBClient;
  try {
    client = EventStoreDBClient.connectionString(connectionString);
  } catch (error) {
    throw new InvalidArgumentError(`Invalid EventStoreDB connection string "${connectionString}": ${error instanceof Error ? error.message : String(error)}`);
  }
  return new EsdbEventStore(client);
}
