/**
 * Persistent subscriptions of the esdb adapter: the port's API mapped onto the client's
 * persistent-subscription calls (the server keeps the groups), with settings checked as every backend
 * checks them and the client's errors turned into the port's.
 */
import {
  END, eventTypeFilter, persistentSubscriptionToAllSettingsFromDefaults, persistentSubscriptionToStreamSettingsFromDefaults,
  START, streamNameFilter, PersistentSubscriptionDoesNotExistError as ClientNotFound,
  PersistentSubscriptionExistsError as ClientExists, PersistentSubscriptionFailedError as ClientFailed,
  PersistentSubscriptionDroppedError as ClientDropped,
  PersistentSubscriptionMaximumSubscribersReachedError as ClientMaxSubscribers,
  type EventStoreDBClient, type PersistentSubscriptionToAllInfo,
  type PersistentSubscriptionToStreamInfo, type ResolvedEvent,
} from '@eventstore/db-client';
import { InvalidArgumentError } from './errors.js';
import { toRecordedEvent } from './esdb-convert.js';
import { translateClientError } from './esdb-errors.js';
import {
  MaximumSubscribersReachedError, PersistentSubscriptionDroppedError, PersistentSubscriptionExistsError,
  PersistentSubscriptionFailedError, PersistentSubscriptionNotFoundError,
} from './persistent/errors.js';
import {
  ALL_SOURCE, type ConnectOptions, type NackAction, type PersistentEvent, type PersistentSubscription,
  type PersistentSubscriptionInfo, type PersistentSubscriptionSettings, type PersistentSubscriptions,
} from './persistent/port.js';
import { resolveSettings } from './persistent/settings.js';
import type { AllFilter, Position } from './port.js';
import { validateStreamName } from './validation.js';

type ClientInfo = PersistentSubscriptionToAllInfo | PersistentSubscriptionToStreamInfo;

function translate(error: unknown, source: string, group: string): Error {
  if (error instanceof ClientNotFound) return new PersistentSubscriptionNotFoundError(source, group);
  if (error instanceof ClientExists) return new PersistentSubscriptionExistsError(source, group);
  if (error instanceof ClientFailed) return new PersistentSubscriptionFailedError(source, group, error.reason || error.message);
  if (error instanceof ClientDropped) return new PersistentSubscriptionDroppedError(source, group);
  if (error instanceof ClientMaxSubscribers) return new MaximumSubscribersReachedError(source, group);
  return translateClientError(error, { stream: source });
}

function clientFilter(filter: AllFilter) {
  if ('streamNamePrefix' in filter) return streamNameFilter({ prefixes: [...filter.streamNamePrefix] });
  if ('streamNameRegex' in filter) return streamNameFilter({ regex: filter.streamNameRegex });
  if ('eventTypePrefix' in filter) return eventTypeFilter({ prefixes: [...filter.eventTypePrefix] });
  return eventTypeFilter({ regex: filter.eventTypeRegex });
}

function clientSettings(settings: PersistentSubscriptionSettings) {
  const { startFrom } = settings;
  return {
    startFrom: startFrom === 'start' ? START : startFrom === 'end' ? END : startFrom,
    resolveLinkTos: settings.resolveLinkTos,
    extraStatistics: settings.extraStatistics,
    messageTimeout: settings.messageTimeoutMs,
    maxRetryCount: settings.maxRetryCount,
    checkPointAfter: settings.checkpointAfterMs,
    checkPointLowerBound: settings.minCheckpointCount,
    checkPointUpperBound: settings.maxCheckpointCount,
    maxSubscriberCount: settings.maxSubscriberCount === 0 ? 'unbounded' as const : settings.maxSubscriberCount,
    liveBufferSize: settings.liveBufferSize,
    readBatchSize: settings.readBatchSize,
    historyBufferSize: settings.historyBufferSize,
    consumerStrategyName: settings.consumerStrategy,
  };
}

function fromClientInfo(info: ClientInfo, filter: AllFilter | undefined): PersistentSubscriptionInfo {
  const settings = info.settings;
  const rawStart = settings.startFrom as unknown;
  const startFrom: PersistentSubscriptionSettings['startFrom'] = rawStart === START ? 'start' : rawStart === END || rawStart === undefined ? 'end' : rawStart as bigint | Position;
  const stats = info.stats;
  const lastCheckpoint = info.eventSource === ALL_SOURCE
    ? (stats as PersistentSubscriptionToAllInfo['stats']).lastCheckpointedEventPosition
    : (stats as PersistentSubscriptionToStreamInfo['stats']).lastCheckpointedEventRevision;
  const lastKnown = info.eventSource === ALL_SOURCE
    ? (stats as PersistentSubscriptionToAllInfo['stats']).lastKnownEventPosition
    : (stats as PersistentSubscriptionToStreamInfo['stats']).lastKnownEventRevision;
  return {
    source: info.eventSource,
    group: info.groupName,
    status: info.status,
    settings: {
      startFrom,
      resolveLinkTos: settings.resolveLinkTos,
      extraStatistics: settings.extraStatistics,
      messageTimeoutMs: settings.messageTimeout,
      maxRetryCount: settings.maxRetryCount,
      checkpointAfterMs: settings.checkPointAfter,
      minCheckpointCount: settings.checkPointLowerBound,
      maxCheckpointCount: settings.checkPointUpperBound,
      maxSubscriberCount: settings.maxSubscriberCount === 'unbounded' ? 0 : settings.maxSubscriberCount,
      liveBufferSize: settings.liveBufferSize,
      readBatchSize: settings.readBatchSize,
      historyBufferSize: settings.historyBufferSize,
      consumerStrategy: settings.consumerStrategyName as PersistentSubscriptionSettings['consumerStrategy'],
      ...(filter ? { filter } : {}),
    },
    connections: info.connections.map((connection) => ({
      name: connection.connectionName, username: connection.username, from: connection.from,
      ...(connection.extraStatistics ? { measurements: Object.fromEntries([...connection.extraStatistics].map(([key, value]) => [key, Number(value)])) } : {}),
      inFlight: connection.inFlightMessages, availableSlots: connection.availableSlots,
      totalItems: connection.totalItems,
    })),
    ...(lastCheckpoint !== undefined ? { lastCheckpoint } : {}),
    ...(lastKnown !== undefined ? { lastKnown } : {}),
    totalItems: stats.totalItems,
    inFlight: stats.totalInFlightMessages,
    retryBufferCount: stats.retryBufferCount,
    bufferCount: stats.readBufferCount,
    parkedCount: stats.parkedMessageCount,
  };
}

function validateSource(source: string): void {
  if (source !== ALL_SOURCE) validateStreamName(source);
}

type ClientSubscription = AsyncIterable<ResolvedEvent & { retryCount: number }> & {
  ack(...events: ResolvedEvent[]): Promise<void>;
  nack(action: NackAction, reason: string, ...events: ResolvedEvent[]): Promise<void>;
  unsubscribe(): Promise<void>;
};

/** The client's ack and nack want events; only their ids are read. */
const byId = (id: string) => ({ event: { id } }) as unknown as ResolvedEvent;

export class EsdbPersistentSubscriptions implements PersistentSubscriptions {
  /** Filters of groups on `$all` created here: EventStoreDB's info does not report them. */
  readonly #filters = new Map<string, AllFilter>();

  constructor(private readonly client: () => EventStoreDBClient) {}

  async create(source: string, group: string, settings?: Partial<PersistentSubscriptionSettings>): Promise<void> {
    validateSource(source);
    const resolved = resolveSettings(source, group, settings);
    try {
      if (source === ALL_SOURCE) {
        const start = resolved.startFrom;
        await this.client().createPersistentSubscriptionToAll(
          group,
          persistentSubscriptionToAllSettingsFromDefaults({ ...clientSettings(resolved), startFrom: start === 'start' ? START : start === 'end' ? END : start as Position }),
          resolved.filter ? { filter: clientFilter(resolved.filter) } : {},
        );
        if (resolved.filter) this.#filters.set(group, resolved.filter);
      } else {
        const start = resolved.startFrom;
        await this.client().createPersistentSubscriptionToStream(
          source, group,
          persistentSubscriptionToStreamSettingsFromDefaults({ ...clientSettings(resolved), startFrom: start === 'start' ? START : start === 'end' ? END : start as bigint }),
        );
      }
    } catch (error) {
      throw translate(error, source, group);
    }
  }

  async update(source: string, group: string, settings?: Partial<PersistentSubscriptionSettings>): Promise<void> {
    validateSource(source);
    const resolved = resolveSettings(source, group, settings);
    try {
      const start = resolved.startFrom;
      if (source === ALL_SOURCE) {
        await this.client().updatePersistentSubscriptionToAll(group, persistentSubscriptionToAllSettingsFromDefaults({
          ...clientSettings(resolved), startFrom: start === 'start' ? START : start === 'end' ? END : start as Position,
        }));
      } else {
        await this.client().updatePersistentSubscriptionToStream(source, group, persistentSubscriptionToStreamSettingsFromDefaults({
          ...clientSettings(resolved), startFrom: start === 'start' ? START : start === 'end' ? END : start as bigint,
        }));
      }
    } catch (error) {
      throw translate(error, source, group);
    }
  }

  async delete(source: string, group: string): Promise<void> {
    validateSource(source);
    try {
      if (source === ALL_SOURCE) await this.client().deletePersistentSubscriptionToAll(group);
      else await this.client().deletePersistentSubscriptionToStream(source, group);
    } catch (error) {
      throw translate(error, source, group);
    }
  }

  async getInfo(source: string, group: string): Promise<PersistentSubscriptionInfo> {
    validateSource(source);
    try {
      const info = source === ALL_SOURCE
        ? await this.client().getPersistentSubscriptionToAllInfo(group)
        : await this.client().getPersistentSubscriptionToStreamInfo(source, group);
      return fromClientInfo(info, source === ALL_SOURCE ? this.#filters.get(group) : undefined);
    } catch (error) {
      throw translate(error, source, group);
    }
  }

  async list(source?: string): Promise<PersistentSubscriptionInfo[]> {
    if (source !== undefined) validateSource(source);
    try {
      const infos: ClientInfo[] = source === undefined
        ? await this.client().listAllPersistentSubscriptions()
        : source === ALL_SOURCE
          ? await this.client().listPersistentSubscriptionsToAll()
          : await this.client().listPersistentSubscriptionsToStream(source);
      return infos.map((info) => fromClientInfo(info, info.eventSource === ALL_SOURCE ? this.#filters.get(info.groupName) : undefined));
    } catch (error) {
      // EventStoreDB answers a list for a stream without groups with not-found: the port says "none".
      const translated = translate(error, source ?? ALL_SOURCE, '');
      if (translated instanceof PersistentSubscriptionNotFoundError) return [];
      throw translated;
    }
  }

  async replayParked(source: string, group: string, options: { readonly stopAt?: number } = {}): Promise<void> {
    validateSource(source);
    const stopAt = options.stopAt === undefined ? {} : { stopAt: options.stopAt };
    try {
      if (source === ALL_SOURCE) await this.client().replayParkedMessagesToAll(group, stopAt);
      else await this.client().replayParkedMessagesToStream(source, group, stopAt);
    } catch (error) {
      throw translate(error, source, group);
    }
  }

  async restartSubsystem(): Promise<void> {
    try {
      await this.client().restartPersistentSubscriptionSubsystem();
    } catch (error) {
      throw translateClientError(error);
    }
  }

  connect(source: string, group: string, options: ConnectOptions = {}): PersistentSubscription {
    validateSource(source);
    const bufferSize = options.bufferSize ?? 10;
    if (!Number.isSafeInteger(bufferSize) || bufferSize < 1) throw new InvalidArgumentError(`bufferSize must be a positive integer, got ${String(bufferSize)}`);
    const subscription = (source === ALL_SOURCE
      ? this.client().subscribeToPersistentSubscriptionToAll(group, { bufferSize })
      : this.client().subscribeToPersistentSubscriptionToStream(source, group, { bufferSize })) as unknown as ClientSubscription;
    const confirmed = new Promise<void>((resolve, reject) => {
      const emitter = subscription as unknown as NodeJS.EventEmitter;
      emitter.once('confirmation', () => resolve());
      emitter.once('error', (error: unknown) => reject(translate(error, source, group)));
    });
    confirmed.catch(() => undefined);
    return {
      joined: () => confirmed,
      [Symbol.asyncIterator]: () => events(subscription, source, group),
      ack: async (...ids) => subscription.ack(...ids.map(byId)),
      nack: async (action, reason, ...ids) => subscription.nack(action, reason, ...ids.map(byId)),
      unsubscribe: () => subscription.unsubscribe(),
    };
  }
}

async function* events(subscription: ClientSubscription, source: string, group: string): AsyncGenerator<PersistentEvent> {
  try {
    for await (const resolved of subscription) {
      const event = toRecordedEvent(resolved);
      if (event) yield { event, retryCount: resolved.retryCount };
    }
  } catch (error) {
    throw translate(error, source, group);
  } finally {
    await subscription.unsubscribe();
  }
}
