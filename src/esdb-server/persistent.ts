/**
 * PersistentSubscriptions service, unary calls (Create, Update, Delete, GetInfo, List, ReplayParked,
 * RestartSubsystem) over the port's persistent subscriptions, per EventStoreDB's
 * Services/Transport/Grpc/PersistentSubscriptions.*.cs. Both request shapes are read: the current one
 * (StreamOptions / AllOptions) and the one the 6.x clients send for streams (the stream identifier on
 * the options and the start revision in the settings, u64 max meaning the end).
 */
import type { sendUnaryData, ServerUnaryCall } from '@grpc/grpc-js';
import type { AllFilter, Position } from '../store/port.js';
import { ALL_SOURCE, type ConsumerStrategy, type PersistentSubscriptionInfo, type PersistentSubscriptionSettings } from '../store/persistent/port.js';
import type { HandlerContext } from './context.js';
import { decodePosition, decodeStreamName, parseUint64 } from './convert.js';
import { rpcErrors } from './errors.js';
import { persistentRpcErrors, toPersistentRpcError } from './persistent-errors.js';
import { persistentPb, type CreateReq, type SubscriptionInfo, type UpdateReq } from './persistent-proto.js';
import { sharedPb } from './proto.js';

const END_REVISION = 0xffffffffffffffffn;
const TICKS_PER_MS = 10_000;
const NAMED_STRATEGIES: Record<number, ConsumerStrategy> = { 0: 'DispatchToSingle', 1: 'RoundRobin', 2: 'Pinned' };

type CreateOrUpdate = CreateReq | UpdateReq;
type Settings = InstanceType<typeof persistentPb.CreateReq.Settings> | InstanceType<typeof persistentPb.UpdateReq.Settings>;

interface Decoded {
  readonly source: string;
  readonly group: string;
  readonly settings: Partial<PersistentSubscriptionSettings>;
}

function decodeSettings(settings: Settings | undefined): Partial<PersistentSubscriptionSettings> {
  if (!settings) throw rpcErrors.invalidArgument(' `settings` is a required argument');
  const named = settings.getNamedConsumerStrategy();
  const text = 'getConsumerStrategy' in settings ? settings.getConsumerStrategy() : '';
  const strategy = (text || NAMED_STRATEGIES[named] || String(named)) as ConsumerStrategy;
  const messageTimeoutMs = settings.hasMessageTimeoutTicks()
    ? Math.round(Number(settings.getMessageTimeoutTicks()) / TICKS_PER_MS)
    : settings.getMessageTimeoutMs();
  const checkpointAfterMs = settings.hasCheckpointAfterTicks()
    ? Math.round(Number(settings.getCheckpointAfterTicks()) / TICKS_PER_MS)
    : settings.getCheckpointAfterMs();
  return {
    resolveLinkTos: settings.getResolveLinks(),
    extraStatistics: settings.getExtraStatistics(),
    messageTimeoutMs,
    maxRetryCount: settings.getMaxRetryCount(),
    checkpointAfterMs,
    minCheckpointCount: settings.getMinCheckpointCount(),
    maxCheckpointCount: settings.getMaxCheckpointCount(),
    maxSubscriberCount: settings.getMaxSubscriberCount(),
    liveBufferSize: settings.getLiveBufferSize(),
    readBatchSize: settings.getReadBatchSize(),
    historyBufferSize: settings.getHistoryBufferSize(),
    consumerStrategy: strategy,
  };
}

function revisionStart(text: string): PersistentSubscriptionSettings['startFrom'] {
  const revision = parseUint64(text, 'start revision');
  return revision === END_REVISION ? 'end' : revision;
}

function decodeFilter(filter: InstanceType<typeof persistentPb.CreateReq.AllOptions.FilterOptions>): AllFilter {
  const byStream = filter.hasStreamIdentifier();
  const expression = byStream ? filter.getStreamIdentifier() : filter.getEventType();
  if (!expression) throw rpcErrors.invalidArgument('A filter needs a stream or event type expression');
  const prefixes = expression.getPrefixList();
  if (prefixes.length > 0) return byStream ? { streamNamePrefix: prefixes } : { eventTypePrefix: prefixes };
  return byStream ? { streamNameRegex: expression.getRegex() } : { eventTypeRegex: expression.getRegex() };
}

function decodeCreateOrUpdate(request: CreateOrUpdate): Decoded {
  const options = request.getOptions();
  if (!options) throw rpcErrors.invalidArgument(' `options` is a required argument');
  const group = options.getGroupName();
  const settings = decodeSettings(options.getSettings());
  if (options.hasAll()) {
    const all = options.getAll()!;
    let startFrom: PersistentSubscriptionSettings['startFrom'] = 'end';
    if (all.hasStart()) startFrom = 'start';
    else if (all.hasPosition()) {
      const position = all.getPosition()!;
      startFrom = decodePosition(position.getCommitPosition(), position.getPreparePosition()) satisfies Position;
    }
    const filter = 'hasFilter' in all && all.hasFilter() ? decodeFilter(all.getFilter()!) : undefined;
    return { source: ALL_SOURCE, group, settings: { ...settings, startFrom, ...(filter ? { filter } : {}) } };
  }
  if (options.hasStream()) {
    const stream = options.getStream()!;
    const startFrom = stream.hasStart() ? 'start' : stream.hasRevision() ? revisionStart(stream.getRevision()) : 'end';
    return { source: decodeStreamName(stream.getStreamIdentifier()), group, settings: { ...settings, startFrom } };
  }
  const legacyRevision = options.getSettings()?.getRevision() ?? '0';
  return { source: decodeStreamName(options.getStreamIdentifier()), group, settings: { ...settings, startFrom: revisionStart(legacyRevision) } };
}

interface SourceOptions {
  hasAll(): boolean;
  getStreamIdentifier(): InstanceType<typeof sharedPb.StreamIdentifier> | undefined;
  getGroupName(): string;
}

function decodeSource(options: SourceOptions | undefined): { source: string; group: string } {
  if (!options) throw rpcErrors.invalidArgument(' `options` is a required argument');
  const source = options.hasAll() ? ALL_SOURCE : decodeStreamName(options.getStreamIdentifier());
  return { source, group: options.getGroupName() };
}

function formatCursor(source: string, cursor: bigint | Position | undefined): string {
  if (cursor === undefined) return '';
  if (typeof cursor === 'bigint') return cursor.toString();
  return `C:${cursor.commit}/P:${cursor.prepare}`;
}

function formatStart(source: string, startFrom: PersistentSubscriptionSettings['startFrom']): string {
  if (source === ALL_SOURCE) {
    if (startFrom === 'start') return 'C:0/P:0';
    if (startFrom === 'end') return 'C:-1/P:-1';
    return formatCursor(source, startFrom);
  }
  if (startFrom === 'start') return '0';
  if (startFrom === 'end') return '-1';
  return formatCursor(source, startFrom);
}

export function encodeInfo(info: PersistentSubscriptionInfo): SubscriptionInfo {
  const result = new persistentPb.SubscriptionInfo();
  const { settings } = info;
  result.setEventSource(info.source);
  result.setGroupName(info.group);
  result.setStatus(info.status);
  result.setConnectionsList(info.connections.map((connection) => {
    const encoded = new persistentPb.SubscriptionInfo.ConnectionInfo();
    encoded.setFrom(connection.from);
    encoded.setUsername(connection.username);
    encoded.setConnectionName(connection.name);
    encoded.setTotalItems(connection.totalItems.toString());
    encoded.setCountSinceLastMeasurement('0');
    encoded.setAvailableSlots(connection.availableSlots);
    encoded.setInFlightMessages(connection.inFlight);
    encoded.setObservedMeasurementsList(Object.entries(connection.measurements ?? {}).map(([key, value]) => {
      const measurement = new persistentPb.SubscriptionInfo.Measurement();
      measurement.setKey(key);
      measurement.setValue(String(value));
      return measurement;
    }));
    return encoded;
  }));
  result.setTotalItems(info.totalItems.toString());
  result.setCountSinceLastMeasurement('0');
  result.setLastCheckpointedEventPosition(formatCursor(info.source, info.lastCheckpoint));
  result.setLastKnownEventPosition(formatCursor(info.source, info.lastKnown));
  result.setResolveLinkTos(settings.resolveLinkTos);
  result.setStartFrom(formatStart(info.source, settings.startFrom));
  result.setMessageTimeoutMilliseconds(settings.messageTimeoutMs);
  result.setExtraStatistics(settings.extraStatistics);
  result.setMaxRetryCount(settings.maxRetryCount);
  result.setLiveBufferSize(settings.liveBufferSize);
  result.setBufferSize(settings.historyBufferSize);
  result.setReadBatchSize(settings.readBatchSize);
  result.setCheckPointAfterMilliseconds(settings.checkpointAfterMs);
  result.setMinCheckPointCount(settings.minCheckpointCount);
  result.setMaxCheckPointCount(settings.maxCheckpointCount);
  result.setReadBufferCount(info.bufferCount);
  result.setLiveBufferCount(BigInt(info.bufferCount).toString());
  result.setRetryBufferCount(info.retryBufferCount);
  result.setTotalInFlightMessages(info.inFlight);
  result.setOutstandingMessagesCount(info.inFlight);
  result.setNamedConsumerStrategy(settings.consumerStrategy);
  result.setMaxSubscriberCount(settings.maxSubscriberCount);
  result.setParkedMessageCount(info.parkedCount.toString());
  return result;
}

/** A unary handler: access check, the work, its answer or its error as EventStoreDB would send them. */
function unary<Request, Response>(context: HandlerContext, work: (request: Request) => Promise<Response>) {
  return (call: ServerUnaryCall<Request, Response>, callback: sendUnaryData<Response>): void => {
    if (!context.authorize(call.metadata)) return callback(rpcErrors.accessDenied());
    let pending: Promise<Response>;
    try {
      pending = work(call.request);
    } catch (error) {
      return callback(toPersistentRpcError(error));
    }
    pending.then((response) => callback(null, response), (error: unknown) => callback(toPersistentRpcError(error)));
  };
}

export function persistentSubscriptionHandlers(context: HandlerContext) {
  const groups = () => context.store.persistentSubscriptions;
  return {
    create: unary(context, async (request: CreateReq) => {
      const { source, group, settings } = decodeCreateOrUpdate(request);
      await groups().create(source, group, settings);
      return new persistentPb.CreateResp();
    }),
    update: unary(context, async (request: UpdateReq) => {
      const { source, group, settings } = decodeCreateOrUpdate(request);
      await groups().update(source, group, settings);
      return new persistentPb.UpdateResp();
    }),
    delete: unary(context, async (request: InstanceType<typeof persistentPb.DeleteReq>) => {
      const { source, group } = decodeSource(request.getOptions());
      await groups().delete(source, group);
      return new persistentPb.DeleteResp();
    }),
    getInfo: unary(context, async (request: InstanceType<typeof persistentPb.GetInfoReq>) => {
      const { source, group } = decodeSource(request.getOptions());
      const response = new persistentPb.GetInfoResp();
      response.setSubscriptionInfo(encodeInfo(await groups().getInfo(source, group)));
      return response;
    }),
    list: unary(context, async (request: InstanceType<typeof persistentPb.ListReq>) => {
      const options = request.getOptions();
      if (!options) throw rpcErrors.invalidArgument(' `options` is a required argument');
      let source: string | undefined;
      if (options.hasListForStream()) {
        const forStream = options.getListForStream()!;
        source = forStream.hasAll() ? ALL_SOURCE : decodeStreamName(forStream.getStream());
      }
      const infos = await groups().list(source);
      // EventStoreDB answers a source without groups with not-found (group name empty).
      if (source !== undefined && infos.length === 0) throw persistentRpcErrors.doesNotExist(source, '');
      const response = new persistentPb.ListResp();
      response.setSubscriptionsList(infos.map(encodeInfo));
      return response;
    }),
    replayParked: unary(context, async (request: InstanceType<typeof persistentPb.ReplayParkedReq>) => {
      const options = request.getOptions();
      const { source, group } = decodeSource(options);
      const stopAt = options?.hasStopAt() ? Number(parseUint64(options.getStopAt(), 'stop at')) : undefined;
      await groups().replayParked(source, group, stopAt === undefined ? {} : { stopAt });
      return new persistentPb.ReplayParkedResp();
    }),
    restartSubsystem: unary(context, async () => {
      await groups().restartSubsystem();
      return new sharedPb.Empty();
    }),
  };
}
