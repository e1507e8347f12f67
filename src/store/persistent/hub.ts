/**
 * Persistent subscriptions over any store that has the port's plain reads, appends and catch-up
 * subscriptions: the group list, checkpoints and parked events live in the store (storage.ts), and
 * the groups that have consumers in this process run here (group.ts). The embedded store uses it.
 */
import { randomUUID } from 'node:crypto';
import { InvalidArgumentError } from '../errors.js';
import type { EventStore } from '../port.js';
import { GroupConsumer, type ConsumerGroup } from './consumer.js';
import { PersistentSubscriptionDroppedError, PersistentSubscriptionExistsError, PersistentSubscriptionNotFoundError } from './errors.js';
import { Group } from './group.js';
import type { GroupLeases } from './leases.js';
import type {
  ConnectOptions, PersistentSubscription, PersistentSubscriptionInfo, PersistentSubscriptionSettings, PersistentSubscriptions,
} from './port.js';
import { ALL_SOURCE } from './port.js';
import { resolveSettings } from './settings.js';
import * as storage from './storage.js';
import { validateStreamName } from '../validation.js';

const DEFAULT_BUFFER_SIZE = 10;
const DEFAULT_LEASE_MS = 10_000;

export interface HubOptions {
  /** Given when other processes may run groups of the same store (a file): see leases.ts. */
  readonly leases?: GroupLeases;
  readonly leaseMs?: number;
}

export class PersistentSubscriptionHub implements PersistentSubscriptions {
  /** Running groups by `source::group`; a load in progress is shared. */
  private readonly groups = new Map<string, Promise<Group>>();
  private readonly leases: GroupLeases | undefined;
  private readonly leaseMs: number;
  /** This hub's name in the lease table: unique per process and store. */
  private readonly owner = `${process.pid}:${randomUUID()}`;
  private renewer: NodeJS.Timeout | undefined;
  private closed = false;
  /** Groups being stopped because their last consumer left: closing waits for them. */
  private readonly stopping = new Set<Promise<void>>();

  constructor(private readonly store: EventStore, options: HubOptions = {}) {
    this.leases = options.leases;
    this.leaseMs = options.leaseMs ?? DEFAULT_LEASE_MS;
  }

  async create(source: string, group: string, settings?: Partial<PersistentSubscriptionSettings>): Promise<void> {
    validateSource(source);
    const resolved = resolveSettings(source, group, settings);
    const startAfter = resolved.startFrom === 'end' ? await storage.currentEnd(this.store, source) : undefined;
    await storage.changeConfig(this.store, (groups) => {
      if (groups.some((entry) => entry.source === source && entry.group === group)) throw new PersistentSubscriptionExistsError(source, group);
      return [...groups, { source, group, settings: resolved, ...(startAfter === undefined ? {} : { startAfter }) }];
    });
  }

  async update(source: string, group: string, settings?: Partial<PersistentSubscriptionSettings>): Promise<void> {
    validateSource(source);
    const end = await storage.currentEnd(this.store, source);
    await storage.changeConfig(this.store, (groups) => {
      const current = groups.find((entry) => entry.source === source && entry.group === group);
      if (!current) throw new PersistentSubscriptionNotFoundError(source, group);
      const filter = current.settings.filter;
      const resolved = resolveSettings(source, group, { ...settings, ...(filter ? { filter } : {}) });
      const startAfter = resolved.startFrom === 'end' ? end : undefined;
      return groups.map((entry) => (entry === current ? { source, group, settings: resolved, ...(startAfter === undefined ? {} : { startAfter }) } : entry));
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
    const who = { name: options.name ?? '', username: options.username ?? '', from: options.from ?? '' };
    return new GroupConsumer(bufferSize, who, async (consumer): Promise<ConsumerGroup> => {
      const running = await this.load(source, group);
      running.join(consumer);
      return running;
    });
  }

  /** Stop every running group (the store is closing). */
  async close(): Promise<void> {
    this.closed = true;
    await this.restartSubsystem();
    await Promise.all(this.stopping);
    clearInterval(this.renewer);
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
        await this.takeLease(id, source, group);
        const onIdle = this.leases ? () => this.unloadInBackground(id) : undefined;
        return Group.load(this.store, config, onIdle);
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
    if (loaded) this.leases?.release(id, this.owner);
  }

  /** Wait until this process holds the group's lease (at once without leases), and keep it renewed. */
  private async takeLease(id: string, source: string, group: string): Promise<void> {
    const leases = this.leases;
    if (!leases) return;
    while (!leases.acquire(id, this.owner, this.leaseMs)) {
      if (this.closed || this.groups.get(id) === undefined) throw new PersistentSubscriptionDroppedError(source, group);
      await new Promise((resolve) => setTimeout(resolve, Math.max(10, Math.floor(this.leaseMs / 4))));
    }
    this.renewer ??= setInterval(() => this.renewLeases(), Math.max(10, Math.floor(this.leaseMs / 3)));
    this.renewer.unref();
  }

  /** A group whose lease could not be renewed (this process stalled past it) stops: another process has it now. */
  private renewLeases(): void {
    for (const id of [...this.groups.keys()]) {
      if (!this.leases?.acquire(id, this.owner, this.leaseMs)) this.unloadInBackground(id);
    }
  }

  private unloadInBackground(id: string): void {
    const stopping = this.unloadKey(id).catch(() => undefined).finally(() => this.stopping.delete(stopping));
    this.stopping.add(stopping);
  }
}

function key(source: string, group: string): string {
  return `${source}::${group}`;
}

function validateSource(source: string): void {
  if (source !== ALL_SOURCE) validateStreamName(source);
}
