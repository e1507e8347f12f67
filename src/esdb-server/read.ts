/**
 * Streams.Read: reads of one stream or of `$all` in either direction with a count, and catch-up
 * subscriptions (stream, `$all`, filtered `$all` with checkpoints), following
 * EventStore: Services/Transport/Grpc/Streams.Read.cs and Services/Transport/Enumerators/*.
 *
 * Position rules on the wire, as EventStoreDB has them: reading `$all` forwards from a position
 * includes the event at that position, backwards excludes it; subscriptions start strictly after the
 * given position or revision. The port's readAll is exclusive both ways, so forward reads start from
 * the position just before the requested one.
 */
import { randomUUID } from 'node:crypto';
import type { ServerWritableStream } from '@grpc/grpc-js';
import { StreamNotFoundError } from '../store/errors.js';
import type { AllFilter, Position, RecordedEvent } from '../store/port.js';
import type { HandlerContext } from './context.js';
import { decodePosition, decodeStreamName, encodeReadEvent, encodeStreamName, parseUint64 } from './convert.js';
import { rpcErrors, toRpcError } from './errors.js';
import { describedStream, synthesizeMetadataEvent } from './metastream.js';
import { streamsPb, type ReadReq, type ReadResp } from './proto.js';
import { fail, isOpen, send } from './send.js';
import { encodeReadEventBytes } from './wire.js';
import { EXCLUDE_WRITER_HEADER } from '../store/writer-headers.js';
import { headerText } from './writers.js';

type Options = InstanceType<typeof streamsPb.ReadReq.Options>;
type FilterOptions = InstanceType<typeof streamsPb.ReadReq.Options.FilterOptions>;
/** Events go out pre-encoded (wire.ts); everything else as google-protobuf messages. */
export type ReadOutput = ReadResp | Buffer;
type Call = ServerWritableStream<ReadReq, ReadOutput>;

function eventMessage(event: RecordedEvent, structuredIds: boolean): ReadOutput {
  return structuredIds || event.link ? encodeReadEvent(event, structuredIds) : encodeReadEventBytes(event);
}

/** EventStoreDB's ReadBatchSize, the max search window when the client asks for `count`. */
export const DEFAULT_MAX_SEARCH_WINDOW = 32;

const BACKWARDS = streamsPb.ReadReq.Options.ReadDirection.BACKWARDS;

function decodeFilter(filter: FilterOptions): AllFilter {
  const byStream = filter.getStreamIdentifier();
  const byType = filter.getEventType();
  const expression = byStream ?? byType;
  if (!expression) throw rpcErrors.invalidArgument('A filter needs a stream identifier or an event type expression');
  const regex = expression.getRegex();
  const prefixes = expression.getPrefixList();
  if (byStream) return regex ? { streamNameRegex: regex } : { streamNamePrefix: prefixes };
  return regex ? { eventTypeRegex: regex } : { eventTypePrefix: prefixes };
}

const UINT64_MAX = 0xffffffffffffffffn;

/**
 * The port position just before `position`, so that an exclusive read includes `position` itself:
 * the last possible position of the previous commit (positions order by commit, then prepare).
 */
function positionBefore(position: Position): Position | 'start' {
  if (position.commit === 0n) return 'start';
  return { commit: position.commit - 1n, prepare: UINT64_MAX };
}

function wirePosition(options: Options): Position | 'start' | 'end' {
  const all = options.getAll();
  if (!all) throw rpcErrors.invalidArgument('Missing $all options');
  if (all.hasStart()) return 'start';
  if (all.hasEnd()) return 'end';
  const position = all.getPosition();
  if (!position) throw rpcErrors.invalidArgument('Missing $all position');
  return decodePosition(position.getCommitPosition(), position.getPreparePosition());
}

function wireRevision(options: Options): bigint | 'start' | 'end' {
  const stream = options.getStream();
  if (!stream) throw rpcErrors.invalidArgument('Missing stream options');
  if (stream.hasStart()) return 'start';
  if (stream.hasEnd()) return 'end';
  if (stream.hasRevision()) return parseUint64(stream.getRevision(), 'stream revision');
  throw rpcErrors.invalidArgument('Missing stream revision option');
}

function streamNotFound(stream: string): ReadResp {
  const notFound = new streamsPb.ReadResp.StreamNotFound();
  notFound.setStreamIdentifier(encodeStreamName(stream));
  const response = new streamsPb.ReadResp();
  response.setStreamNotFound(notFound);
  return response;
}

async function sendEvents(call: Call, events: AsyncIterable<RecordedEvent>, structuredIds: boolean): Promise<void> {
  for await (const event of events) {
    if (!(await send(call, eventMessage(event, structuredIds)))) return;
  }
}

async function readStream(call: Call, context: HandlerContext, options: Options, structuredIds: boolean): Promise<void> {
  const name = decodeStreamName(options.getStream()?.getStreamIdentifier());
  const count = parseUint64(options.getCount(), 'count');
  const target = describedStream(name);
  try {
    if (target !== undefined) {
      const metadata = await context.store.getStreamMetadata(target);
      if (!metadata) throw new StreamNotFoundError(name);
      if (count > 0n) await send(call, eventMessage(synthesizeMetadataEvent(target, metadata), structuredIds));
    } else {
      const direction = options.getReadDirection() === BACKWARDS ? 'backwards' : 'forwards';
      const resolveLinkTos = options.getResolveLinks();
      await sendEvents(call, context.store.readStream(name, { direction, fromRevision: wireRevision(options), maxCount: count, resolveLinkTos }), structuredIds);
    }
  } catch (error) {
    // A missing (or soft-deleted) stream is an answer, not an error (Enumerator.ReadStreamForwards.cs).
    if (error instanceof StreamNotFoundError) await send(call, streamNotFound(name));
    else throw error;
  }
}

async function readAll(call: Call, context: HandlerContext, options: Options, structuredIds: boolean): Promise<void> {
  const backwards = options.getReadDirection() === BACKWARDS;
  const from = wirePosition(options);
  const fromPosition = backwards || typeof from === 'string' ? from : positionBefore(from);
  const filter = options.hasFilter() ? decodeFilter(options.getFilter() as FilterOptions) : undefined;
  const events = context.store.readAll({
    direction: backwards ? 'backwards' : 'forwards',
    fromPosition,
    maxCount: parseUint64(options.getCount(), 'count'),
    resolveLinkTos: options.getResolveLinks(),
    ...(filter ? { filter } : {}),
  });
  await sendEvents(call, events, structuredIds);
}

async function subscribe(call: Call, context: HandlerContext, options: Options, structuredIds: boolean): Promise<void> {
  if (options.getReadDirection() === BACKWARDS) throw rpcErrors.invalidArgument('Subscriptions read forwards only');
  const filterOptions = options.hasFilter() ? (options.getFilter() as FilterOptions) : undefined;
  // Our extension (writers.ts): on `$all`, that writer's appends are passed over header first, never read or sent.
  const excluded = options.hasStream() ? undefined : headerText(call.metadata, EXCLUDE_WRITER_HEADER);
  let subscription;
  if (options.hasStream()) {
    if (filterOptions) throw rpcErrors.invalidArgument('Stream subscriptions take no filter');
    const name = decodeStreamName(options.getStream()?.getStreamIdentifier());
    subscription = context.store.subscribeToStream(name, { fromRevision: wireRevision(options), resolveLinkTos: options.getResolveLinks() });
  } else {
    const window = filterOptions?.hasMax() ? filterOptions.getMax() : DEFAULT_MAX_SEARCH_WINDOW;
    const multiplier = filterOptions?.getCheckpointintervalmultiplier() ?? 1;
    if (window <= 0 || multiplier <= 0) throw rpcErrors.invalidArgument('Max search window and checkpoint interval multiplier must be positive');
    const writers = context.writers;
    subscription = context.store.subscribeToAll({
      ...(excluded === undefined ? {} : { skip: (stream: string, revision: bigint) => writers.wrote(excluded, stream, revision) }),
      fromPosition: wirePosition(options),
      resolveLinkTos: options.getResolveLinks(),
      ...(filterOptions ? { filter: decodeFilter(filterOptions), checkpointInterval: window * multiplier } : {}),
    });
  }
  const untrack = context.track(() => {
    void subscription.unsubscribe();
    fail(call, rpcErrors.unavailable('Server is shutting down'));
  });
  call.on('cancelled', () => void subscription.unsubscribe());
  try {
    const confirmation = new streamsPb.ReadResp.SubscriptionConfirmation();
    confirmation.setSubscriptionId(randomUUID());
    const confirmed = new streamsPb.ReadResp();
    confirmed.setConfirmation(confirmation);
    if (!(await send(call, confirmed))) return;
    for await (const message of subscription) {
      let response: ReadOutput | undefined;
      if (message.kind === 'event') {
        if (excluded !== undefined) {
          // Read before the answer to its append was here: that answer may have come since, or be
          // about to (writers.ts).
          const settling = context.writers.settling(excluded, message.event.stream, message.event.revision);
          if (settling) await settling;
          if (context.writers.wrote(excluded, message.event.stream, message.event.revision)) continue;
        }
        response = eventMessage(message.event, structuredIds);
      } else if (message.kind === 'checkpoint' && filterOptions) {
        const checkpoint = new streamsPb.ReadResp.Checkpoint();
        checkpoint.setCommitPosition(message.position.commit.toString());
        checkpoint.setPreparePosition(message.position.prepare.toString());
        const checkpointResponse = new streamsPb.ReadResp();
        checkpointResponse.setCheckpoint(checkpoint);
        response = checkpointResponse;
      } else if (message.kind === 'caughtUp') {
        const caughtUp = new streamsPb.ReadResp();
        caughtUp.setCaughtUp(new streamsPb.ReadResp.CaughtUp());
        response = caughtUp;
      }
      // fellBehind is not sent: EventStoreDB does not send it to clients either (Streams.Read.cs).
      if (response && !(await send(call, response))) break;
    }
  } finally {
    untrack();
    await subscription.unsubscribe();
  }
}

export function handleRead(context: HandlerContext) {
  return (call: Call): void => {
    const run = async () => {
      if (!context.authorize(call.metadata)) throw rpcErrors.accessDenied();
      const options = call.request.getOptions();
      if (!options) throw rpcErrors.invalidArgument(' `options` is a required argument');
      const structuredIds = options.getUuidOption()?.hasStructured() ?? false;
      if (!options.hasStream() && !options.hasAll()) throw rpcErrors.invalidArgument('Read needs stream or $all options');
      if (options.hasSubscription()) await subscribe(call, context, options, structuredIds);
      else if (options.hasStream()) await readStream(call, context, options, structuredIds);
      else await readAll(call, context, options, structuredIds);
    };
    run().then(
      () => {
        if (isOpen(call)) call.end();
      },
      (error: unknown) => fail(call, toRpcError(error, 'Read')),
    );
  };
}
