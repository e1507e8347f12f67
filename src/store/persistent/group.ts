/**
 * A running consumer group: reads its source from the checkpoint on, hands events to consumers by the
 * group's strategy, tracks what is in flight, retries, parks and checkpoints. The rules are
 * EventStoreDB's (Services/PersistentSubscription/PersistentSubscription.cs):
 * - a nack `retry` (or a timeout, or the consumer leaving) sends the event again with its retry count
 *   raised, unless it was retried `maxRetryCount` times already: then it is parked;
 * - `park` writes it to the parked stream; `skip` and `stop` drop it (EventStoreDB's stop does nothing more);
 * - the checkpoint is the place just before the oldest event not yet done, written once
 *   `maxCheckpointCount` events are done, or `minCheckpointCount` and `checkpointAfterMs` have passed;
 * - replayed parked events go out before new ones and do not move the checkpoint.
 * Delivery is at least once: after a crash the group resumes from its checkpoint.
 */
import type { EventStore, Position, RecordedEvent, Subscription } from '../port.js';
import { comparePositions } from '../port.js';
import { resolveLink } from '../links.js';
import type { ConsumerGroup, GroupConsumer } from './consumer.js';
import { MaximumSubscribersReachedError, PersistentSubscriptionDroppedError } from './errors.js';
import { ALL_SOURCE, type NackAction, type PersistentConnectionInfo, type PersistentSubscriptionSettings } from './port.js';
import { pickConsumer } from './strategies.js';
import * as storage from './storage.js';
import type { Cursor } from './storage.js';

interface Message {
  /** With `resolveLinkTos`, a link's target with the link as its `link`: the link is the message (its id, its place). */
  readonly event: RecordedEvent;
  retryCount: number;
  /** Order in the source; undefined for replayed parked events (they do not move the checkpoint). */
  readonly sequence: number | undefined;
  /** The place just before this event: where a checkpoint goes when this is the oldest not done. */
  readonly previous: Cursor | undefined;
}

interface InFlight {
  readonly message: Message;
  readonly consumer: GroupConsumer;
  readonly sentAt: number;
  readonly dueAt: number;
}

/** How often timeouts and timed checkpoints are looked at (EventStoreDB ticks once a second). */
const TICK_MS = 100;

export class Group implements ConsumerGroup {
  readonly consumers: GroupConsumer[] = [];
  private readonly retries: Message[] = [];
  private readonly buffer: Message[] = [];
  private readonly inFlight = new Map<string, InFlight>();
  private readonly parking = new Map<string, Message>();
  private nextSequence = 0;
  private lastRead: { sequence: number; cursor: Cursor } | undefined;
  private lastCheckpointSequence = -1;
  private lastCheckpointAt = Date.now();
  lastCheckpoint: Cursor | undefined;
  private checkpointWrites: Promise<void> = Promise.resolve();
  private subscription: Subscription | undefined;
  private wakeReader: (() => void) | undefined;
  private replaying = false;
  private readonly ticker: NodeJS.Timeout;
  private stopped = false;

  private constructor(
    private readonly store: EventStore,
    readonly source: string,
    readonly name: string,
    readonly settings: PersistentSubscriptionSettings,
    startAfter: Cursor | 'start' | 'end',
    private readonly onIdle: (() => void) | undefined,
  ) {
    this.ticker = setInterval(() => this.tick(), TICK_MS);
    this.ticker.unref();
    void this.read(startAfter);
  }

  /** `onIdle`: called when the last consumer leaves (the hub then stops the group and frees its lease). */
  static async load(store: EventStore, config: storage.GroupConfig, onIdle?: () => void): Promise<Group> {
    const { source, group: name, settings } = config;
    const checkpoint = await storage.readCheckpoint(store, source, name);
    const group = new Group(store, source, name, settings, checkpoint ?? config.startAfter ?? startAfter(settings.startFrom), onIdle);
    group.lastCheckpoint = checkpoint;
    return group;
  }

  get totalItems(): bigint {
    return this.consumers.reduce((sum, consumer) => sum + consumer.totalItems, 0n);
  }

  get lastKnown(): Cursor | undefined {
    return this.lastRead?.cursor ?? this.lastCheckpoint;
  }

  get counts() {
    return { inFlight: this.inFlight.size, retries: this.retries.length, buffer: this.buffer.length };
  }

  connections(): PersistentConnectionInfo[] {
    return this.consumers.map((consumer) => {
      const measurements = consumer.measurements();
      return {
        ...consumer.who, inFlight: consumer.inFlight, availableSlots: consumer.availableSlots, totalItems: consumer.totalItems,
        ...(measurements ? { measurements } : {}),
      };
    });
  }

  join(consumer: GroupConsumer): void {
    if (this.stopped) throw new PersistentSubscriptionDroppedError(this.source, this.name);
    const max = this.settings.maxSubscriberCount;
    if (max > 0 && this.consumers.length >= max) throw new MaximumSubscribersReachedError(this.source, this.name);
    this.consumers.push(consumer);
    this.push();
  }

  leave(consumer: GroupConsumer): void {
    const index = this.consumers.indexOf(consumer);
    if (index < 0) return;
    this.consumers.splice(index, 1);
    const lost = [...this.inFlight.values()].filter((entry) => entry.consumer === consumer);
    for (const entry of lost) {
      this.inFlight.delete(messageId(entry.message));
      this.retryOrPark(entry.message);
    }
    this.push();
    if (this.consumers.length === 0) this.onIdle?.();
  }

  ack(consumer: GroupConsumer, ids: readonly string[]): void {
    for (const id of ids) {
      const entry = this.finish(consumer, id);
      if (entry && this.settings.extraStatistics) consumer.recordLatency(Date.now() - entry.sentAt);
    }
    this.afterChange();
  }

  nack(consumer: GroupConsumer, action: NackAction, reason: string, ids: readonly string[]): void {
    for (const id of ids) {
      const entry = this.finish(consumer, id);
      if (!entry) continue;
      if (action === 'retry') this.retryOrPark(entry.message);
      else if (action === 'park') this.park(entry.message, `Client explicitly NAK'ed message.\n${reason}`);
    }
    this.afterChange();
  }

  /** Send parked events again, before new ones; the parked stream then starts after them. */
  async replayParked(stopAt: number | undefined): Promise<void> {
    if (this.replaying) return;
    this.replaying = true;
    try {
      let replayedUpTo: bigint | undefined;
      let count = 0;
      for await (const entry of storage.readParked(this.store, this.source, this.name)) {
        if (stopAt !== undefined && count >= stopAt) break;
        // A parked link (parked from a group that resolves links) goes out resolved again.
        const event = this.settings.resolveLinkTos ? await resolveLink(this.store, entry.event) : entry.event;
        this.retries.push({ event, retryCount: 0, sequence: undefined, previous: undefined });
        replayedUpTo = entry.revision;
        count++;
      }
      if (replayedUpTo !== undefined) await storage.markParkedReplayed(this.store, this.source, this.name, replayedUpTo + 1n);
      this.push();
    } finally {
      this.replaying = false;
    }
  }

  /** Drop every consumer (with `error`), checkpoint what is done, and stop reading. */
  async stop(error?: unknown): Promise<void> {
    if (this.stopped) return;
    error ??= new PersistentSubscriptionDroppedError(this.source, this.name);
    this.stopped = true;
    clearInterval(this.ticker);
    for (const consumer of this.consumers.splice(0)) consumer.drop(error);
    // Events sent but not acked go back before the checkpoint: the next run sends them again.
    for (const entry of this.inFlight.values()) this.retries.push(entry.message);
    this.inFlight.clear();
    this.checkpoint(true, true);
    this.wakeReader?.();
    await this.subscription?.unsubscribe();
    await this.checkpointWrites;
  }

  private finish(consumer: GroupConsumer, id: string): InFlight | undefined {
    const entry = this.inFlight.get(id);
    if (!entry || entry.consumer !== consumer) return undefined;
    this.inFlight.delete(id);
    consumer.inFlight = Math.max(0, consumer.inFlight - 1);
    return entry;
  }

  private afterChange(): void {
    this.checkpoint(false);
    this.wakeReader?.();
    this.push();
  }

  private retryOrPark(message: Message): void {
    if (message.retryCount >= this.settings.maxRetryCount) {
      this.park(message, `Reached retry count of ${this.settings.maxRetryCount}`);
      return;
    }
    message.retryCount++;
    // Keep retries in source order, so the oldest goes out first.
    const at = this.retries.findIndex((other) => (other.sequence ?? -1) > (message.sequence ?? -1));
    if (at < 0) this.retries.push(message);
    else this.retries.splice(at, 0, message);
  }

  private park(message: Message, reason: string): void {
    const id = messageId(message);
    this.parking.set(id, message);
    // A resolved event is parked as its link, as EventStoreDB parks the original event.
    storage.park(this.store, this.source, this.name, message.event.link ?? message.event, reason).then(
      () => {
        this.parking.delete(id);
        this.afterChange();
      },
      () => {
        // The store refused (closing): the event stays before the checkpoint and is read again on reload.
      },
    );
  }

  /** Hand out what waits, retries first, while consumers have room. */
  private push(): void {
    if (this.stopped || this.consumers.length === 0) return;
    for (const queue of [this.retries, this.buffer]) {
      for (let index = 0; index < queue.length;) {
        const message = queue[index]!;
        const choice = pickConsumer(this.settings.consumerStrategy, this.consumers, message.event);
        if (choice === 'full') return;
        if (choice === 'wait') {
          index++;
          continue;
        }
        queue.splice(index, 1);
        this.send(choice, message);
      }
    }
    if (this.buffer.length < this.bufferLimit()) this.wakeReader?.();
  }

  private send(consumer: GroupConsumer, message: Message): void {
    const timeout = this.settings.messageTimeoutMs;
    const now = Date.now();
    this.inFlight.set(messageId(message), { message, consumer, sentAt: now, dueAt: timeout === 0 ? Infinity : now + timeout });
    consumer.deliver({ event: message.event, retryCount: message.retryCount });
  }

  private tick(): void {
    const now = Date.now();
    for (const entry of [...this.inFlight.values()]) {
      if (entry.dueAt > now) continue;
      this.inFlight.delete(messageId(entry.message));
      entry.consumer.inFlight = Math.max(0, entry.consumer.inFlight - 1);
      this.retryOrPark(entry.message);
    }
    this.push();
    this.checkpoint(true);
  }

  private bufferLimit(): number {
    return Math.max(this.settings.historyBufferSize, this.settings.liveBufferSize, 1);
  }

  /** The reading loop: from the source into the buffer, pausing while the buffer is full. */
  private async read(startAfter: Cursor | 'start' | 'end'): Promise<void> {
    const { resolveLinkTos } = this.settings;
    const subscription = this.source === ALL_SOURCE
      ? this.store.subscribeToAll({
        fromPosition: startAfter as Position | 'start' | 'end',
        resolveLinkTos,
        ...(this.settings.filter ? { filter: this.settings.filter } : {}),
      })
      : this.store.subscribeToStream(this.source, { fromRevision: startAfter as bigint | 'start' | 'end', resolveLinkTos });
    this.subscription = subscription;
    let previous: Cursor | undefined = typeof startAfter === 'string' ? undefined : startAfter;
    try {
      for await (const item of subscription) {
        if (this.stopped) break;
        if (item.kind !== 'event') continue;
        const event = item.event;
        // As in EventStoreDB, an unfiltered group on $all gets `$` events too (its own checkpoints among them).
        // A resolved event's place in the source is its link's.
        const original = event.link ?? event;
        const cursor: Cursor = this.source === ALL_SOURCE ? original.position : original.revision;
        const sequence = this.nextSequence++;
        this.buffer.push({ event, retryCount: 0, sequence, previous });
        this.lastRead = { sequence, cursor };
        previous = cursor;
        this.push();
        while (!this.stopped && this.buffer.length >= this.bufferLimit()) {
          await new Promise<void>((resolve) => (this.wakeReader = resolve));
          this.wakeReader = undefined;
        }
      }
    } catch {
      // The store closed or the stream was deleted: consumers stay, nothing new arrives.
    }
  }

  /** EventStoreDB's TryMarkCheckpoint, with events waiting in the buffer counted as not done. */
  private checkpoint(isTimeCheck: boolean, force = false): void {
    let oldest: Message | undefined;
    const consider = (message: Message) => {
      if (message.sequence === undefined) return;
      if (!oldest || message.sequence < (oldest.sequence as number)) oldest = message;
    };
    for (const entry of this.inFlight.values()) consider(entry.message);
    for (const message of this.retries) consider(message);
    for (const message of this.parking.values()) consider(message);
    if (this.buffer[0]) consider(this.buffer[0]);
    let sequence: number;
    let cursor: Cursor | undefined;
    if (oldest) {
      sequence = (oldest.sequence as number) - 1;
      cursor = oldest.previous;
    } else {
      sequence = this.lastRead?.sequence ?? -1;
      cursor = this.lastRead?.cursor;
    }
    if (sequence < 0 || cursor === undefined) return;
    const done = sequence - this.lastCheckpointSequence;
    const now = Date.now();
    const { checkpointAfterMs, minCheckpointCount, maxCheckpointCount } = this.settings;
    if (done <= 0) return;
    if (!force) {
      if (now - this.lastCheckpointAt < checkpointAfterMs && done < maxCheckpointCount) return;
      if (!((done >= minCheckpointCount && isTimeCheck) || done >= maxCheckpointCount)) return;
    }
    this.lastCheckpointAt = now;
    this.lastCheckpointSequence = sequence;
    const position = cursor;
    this.checkpointWrites = this.checkpointWrites
      .then(() => storage.writeCheckpoint(this.store, this.source, this.name, position))
      .then(() => {
        if (this.lastCheckpoint === undefined || compareCursors(position, this.lastCheckpoint) > 0) this.lastCheckpoint = position;
      }, () => undefined);
  }
}

/** What consumers ack and nack: the link's id for a resolved event (the client sends `link?.id ?? event.id`). */
function messageId(message: Message): string {
  return (message.event.link ?? message.event).id;
}

function compareCursors(a: Cursor, b: Cursor): number {
  if (typeof a === 'bigint' && typeof b === 'bigint') return a === b ? 0 : a < b ? -1 : 1;
  return comparePositions(a as Position, b as Position);
}

/** The exclusive start of a group without a checkpoint: `startFrom` is inclusive. */
function startAfter(startFrom: PersistentSubscriptionSettings['startFrom']): Cursor | 'start' | 'end' {
  if (typeof startFrom === 'string') return startFrom;
  if (typeof startFrom === 'bigint') return startFrom === 0n ? 'start' : startFrom - 1n;
  // The embedded store numbers positions densely (commit = prepare = sequence): the one before is one less.
  if (startFrom.commit === 0n) return 'start';
  return { commit: startFrom.commit - 1n, prepare: startFrom.prepare - 1n };
}
