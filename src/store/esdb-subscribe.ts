/**
 * The adapter's `$all` catch-up subscriptions: the client's own Subscription (confirmation,
 * caught-up, checkpoints, cancellation) over a Read call on the client's channel whose events are
 * read header first (esdb-wire-event.ts), so events the subscriber passes over are never decoded.
 * The request is the one the client's subscribeToAll sends. Without the client members this needs
 * (esdb-client-internals.ts), `openAllSubscription` returns undefined and the caller uses
 * subscribeToAll.
 */
import { END, START, type AllStreamSubscription, type EventStoreDBClient, type Position as ClientPosition } from '@eventstore/db-client';
import { makeGenericClientConstructor, type ClientReadableStream, type ServiceDefinition } from '@grpc/grpc-js';
import subscriptionModule from '@eventstore/db-client/dist/streams/utils/Subscription.js';
import convertModule from '@eventstore/db-client/dist/utils/convertGrpcEvent.js';
import sharedPbModule from '@eventstore/db-client/generated/shared_pb.js';
import streamsGrpcModule from '@eventstore/db-client/generated/streams_grpc_pb.js';
import streamsPbModule from '@eventstore/db-client/generated/streams_pb.js';
import type { ReadResp } from '@eventstore/db-client/generated/streams_pb.js';
import { internalsOf } from './esdb-client-internals.js';
import { EXCLUDE_WRITER_HEADER } from './writer-headers.js';
import { deserializeReadResponse, WireEvent } from './esdb-wire-event.js';

const { ReadReq } = streamsPbModule;
const { Empty } = sharedPbModule;

const rawReadService: ServiceDefinition = {
  read: { ...streamsGrpcModule.StreamsService.read, responseDeserialize: deserializeReadResponse },
};
const RawReadClient = makeGenericClientConstructor(rawReadService, 'Streams');
type RawReadClient = InstanceType<typeof RawReadClient>;

/** The server-side filter as the client's streamNameFilter / eventTypeFilter make it. */
export interface ClientFilter {
  readonly filterOn: 'streamName' | 'eventType';
  readonly prefixes?: string[];
  readonly regex?: string;
  readonly maxSearchWindow?: number;
  readonly checkpointInterval: number;
  readonly checkpointReached?: (subscription: AllStreamSubscription, position: ClientPosition) => void;
}

function readRequest(fromPosition: ClientPosition | typeof START | typeof END, filter: ClientFilter | undefined): InstanceType<typeof ReadReq> {
  const all = new ReadReq.Options.AllOptions();
  if (fromPosition === START) all.setStart(new Empty());
  else if (fromPosition === END) all.setEnd(new Empty());
  else {
    const position = new ReadReq.Options.Position();
    position.setCommitPosition(fromPosition.commit.toString(10));
    position.setPreparePosition(fromPosition.prepare.toString(10));
    all.setPosition(position);
  }
  const options = new ReadReq.Options();
  options.setAll(all);
  options.setResolveLinks(false);
  options.setSubscription(new ReadReq.Options.SubscriptionOptions());
  const uuidOption = new ReadReq.Options.UUIDOption();
  uuidOption.setString(new Empty());
  options.setUuidOption(uuidOption);
  if (filter) {
    const expression = new ReadReq.Options.FilterOptions.Expression();
    if (filter.prefixes) expression.setPrefixList(filter.prefixes);
    if (filter.regex !== undefined) expression.setRegex(filter.regex);
    const filterOptions = new ReadReq.Options.FilterOptions();
    if (filter.filterOn === 'streamName') filterOptions.setStreamIdentifier(expression);
    else filterOptions.setEventType(expression);
    if (filter.maxSearchWindow !== undefined) filterOptions.setMax(filter.maxSearchWindow);
    else filterOptions.setCount(new Empty());
    filterOptions.setCheckpointintervalmultiplier(filter.checkpointInterval);
    options.setFilter(filterOptions);
  } else {
    options.setNoFilter(new Empty());
  }
  const request = new ReadReq();
  request.setOptions(options);
  return request;
}

/** Events a subscription hands out: WireEvents, or the client's ResolvedEvents for what the wire reader left to google-protobuf. */
const convertReadEvent = (readEvent: ReadResp.ReadEvent | WireEvent) => (readEvent instanceof WireEvent ? readEvent : convertModule.convertGrpcEvent(readEvent));

export function openAllSubscription(
  client: EventStoreDBClient,
  fromPosition: ClientPosition | typeof START | typeof END,
  filter: ClientFilter | undefined,
  excludeWriter?: string,
): AllStreamSubscription | undefined {
  const internals = internalsOf(client);
  if (!internals) return undefined;
  const request = readRequest(fromPosition, filter);
  const createStream = internals.GRPCStreamCreator(RawReadClient, 'subscribeToAll', (raw: RawReadClient) => {
    const [metadata, options] = internals.callArguments({}, { deadline: Infinity });
    if (excludeWriter !== undefined) metadata.set(EXCLUDE_WRITER_HEADER, excludeWriter);
    return (raw as unknown as { read(request: unknown, metadata: unknown, options: unknown): ClientReadableStream<ReadResp> }).read(request, metadata, options);
  });
  return new subscriptionModule.Subscription(createStream, convertReadEvent as never, {}, filter?.checkpointReached) as unknown as AllStreamSubscription;
}
