/**
 * Persistent subscriptions over any store that has the port's plain reads, appends and catch-up
 * subscriptions: the group list, checkpoints and parked events live in the store (storage.ts), and
 * the groups that have consumers in this process run here (group.ts). The embedded store uses it.
 */
import { InvalidArgumentError } from '../errors.js';
import type { EventStore } from '../port.js';
import { GroupConsumer, type ConsumerGroup } from './consumer.js';
import { PersistentSubscriptionExistsError, PersistentSubscriptionNotFoundError } from './errors.js';
import { Group } from './group.js';
import type {
  ConnectOptions, PersistentSubscription, PersistentSubscriptionInfo, PersistentSubscriptionSettings, PersistentSubscriptions,
} from './port.js';
import { ALL_SOURCE } from './port.js';
import { resolveSettings } from './settings.js';
import * as storage from './storage.js';
import { validateStreamName } from '../validation.js';

const DEFAULT_BUFFER_SIZE = 10;

export class PersistentSubscriptionHub implements PersistentSubscriptions {
  /** Running groups by `source::group`; a load in progress is shared. */
  private readonly groups = new Map<string, Promise<Group>>();

  constructor(private readonly store: EventStore) {}

  async create(source: string, group: string, settings?: Partial<PersistentSubscriptionSettings>): Promise<void> {
    validateSource(source);
    const resolved = resolveSettings(source, group, settings);
    await storage.changeConfig(this.store, (groups) => {
      if (groups.some((entry) => entry.source === source && entry.group === group)) throw new PersistentSubscriptionExistsError(source, group);
      return [...groups, { source, group, settings: resolved }];
    });
  }

  async update(source: string, group: string, settings?: Partial<PersistentSubscriptionSettings>): Promise<void> {
    validateSource(source);
    await storage.changeConfig(this.store, (groups) => {
      const current = groups.find((entry) => entry.source === source && entry.group === group);
      if (!current) throw new PersistentSubscriptionNotFoundError(source, group);
      const filter = current.settings.filter;
      const resolved = resolveSettings(source, group, { ...settings, ...(filter ? { filter } : {}) });
      return groups.map((entry) => (entry === current ? { source, group, settings: resolved } : entry));
    });
    await this.unload(source, group);
  }

  async delete(source: string, group: string): Promise<void> {
    validateSource(source);
    await storage.changeConfig(this.store, (groups) => {
      if (!groups.some((entry) => entry.source === source && entry.group === group)) throw new PersistentSubscriptionNotFoundError(source, group);
      return groups.filter((entry) => !(entry.source === source && entry.group === group));
    });
    // EventStoreDB tells the consumers of a deleted group that it does not exist (PersistentSubscriptions.Read.cs).
    await this.unload(source, group, new PersistentSubscriptionNotFoundError(source, group));
    await storage.deleteGroupStreams(this.store, source, group);
  }

  async getInfo(source: string, group: string): Promise<PersistentSubscriptionInfo> {
    validateSource(source);
    const { groups } = await storage.readConfig(this.store);
    const config = groups.find((entry) => entry.source === source && entry.group === group);
    if (!config) throw new PersistentSubscriptionNotFoundError(source, group);
    return this.describe(config);
  }

  async list(source?: string): Promise<PersistentSubscriptionInfo[]> {
    if (source !== undefined) validateSource(source);
    const { groups } = await storage.readConfig(this.store);
    const chosen = groups.filter((entry) => source === undefined || entry.source === source);
    return Promise.all(chosen.map((entry) => this.describe(entry)));
  }

  async replayParked(source: string, group: string, options: { readonly stopAt?: number } = {}): Promise<void> {
    validateSource(source);
    const running = await this.load(source, group);
    await running.replayParked(options.stopAt);
  }

  async restartSubsystem(): Promise<void> {
    const running = [...this.groups.keys()];
    await Promise.all(running.map((id) => this.unloadKey(id)));
  }

  connect(source: string, group: string, options: ConnectOptions = {}): PersistentSubscription {
    validateSource(source);
    const bufferSize = options.bufferSize ?? DEFAULT_BUFFER_SIZE;
    if (!Number.isSafeInteger(bufferSize) || bufferSize < 1) {
      throw new InvalidArgumentError(`bufferSize must be a positive integer, got ${String(bufferSize)}`);
    }
    return new GroupConsumer(bufferSize, options.name ?? '', async (consumer): Promise<ConsumerGroup> => {
      const running = await this.load(source, group);
      running.join(consumer);
      return running;
    });
  }

  /** Stop every running group (the store is closing). */
  async close(): Promise<void> {
    await this.restartSubsystem();
  }

  private async describe(config: storage.GroupConfig): Promise<PersistentSubscriptionInfo> {
    const running = await this.groups.get(key(config.source, config.group))?.catch(() => undefined);
    const lastCheckpoint = running ? running.lastCheckpoint : await storage.readCheckpoint(this.store, config.source, config.group);
    const counts = running?.counts ?? { inFlight: 0, retries: 0, buffer: 0 };
    const lastKnown = running?.lastKnown;
    return {
      source: config.source,
      group: config.group,
      status: running ? 'Live' : 'NotReady',
      settings: config.settings,
      connections: running?.connections() ?? [],
      ...(lastCheckpoint !== undefined ? { lastCheckpoint } : {}),
      ...(lastKnown !== undefined ? { lastKnown } : {}),
      totalItems: running?.totalItems ?? 0n,
      inFlight: counts.inFlight,
      retryBufferCount: counts.retries,
      bufferCount: counts.buffer,
      parkedCount: await storage.countParked(this.store, config.source, config.group),
    };
  }

  private load(source: string, group: string): Promise<Group> {
    const id = key(source, group);
    let running = this.groups.get(id);
    if (!running) {
      running = (async () => {
        const { groups } = await storage.readConfig(this.store);
        const config = groups.find((entry) => entry.source === source && entry.group === group);
        if (!config) throw new PersistentSubscriptionNotFoundError(source, group);
        return Group.load(this.store, source, group, config.settings);
      })();
      this.groups.set(id, running);
      running.catch(() => this.groups.delete(id));
    }
    return running;
  }

  private unload(source: string, group: string, error?: unknown): Promise<void> {
    return this.unloadKey(key(source, group), error);
  }

  private async unloadKey(id: string, error?: unknown): Promise<void> {
    const running = this.groups.get(id);
    if (!running) return;
    this.groups.delete(id);
    const loaded = await running.catch(() => undefined);
    await loaded?.stop(error);
  }
}

function key(source: string, group: string): string {
  return `${source}::${group}`;
}

function validateSource(source: string): void {
  if (source !== ALL_SOURCE) validateStreamName(source);
}
