/**
 * One consumer's connection to a group, as the port hands it out: an async iterable fed by the group
 * (src/store/persistent/group.ts), which joins the group when iteration starts and leaves it on
 * `unsubscribe()` or when the loop is left.
 */
import type { NackAction, PersistentEvent, PersistentSubscription } from './port.js';

/** What a consumer needs from its group. */
export interface ConsumerGroup {
  ack(consumer: GroupConsumer, ids: readonly string[]): void;
  nack(consumer: GroupConsumer, action: NackAction, reason: string, ids: readonly string[]): void;
  leave(consumer: GroupConsumer): void;
}

let consumerCount = 0;
const LATENCY_WINDOW = 1_000;

export class GroupConsumer implements PersistentSubscription {
  readonly id = `consumer-${++consumerCount}`;
  /** Events sent and not yet acked or nacked. */
  inFlight = 0;
  totalItems = 0n;
  /** Ack latencies (ms) of the last acks, when the group keeps extra statistics. */
  readonly latencies: number[] = [];
  private readonly queue: PersistentEvent[] = [];
  private wake: (() => void) | undefined;
  private failure: unknown;
  private ended = false;
  private started = false;
  private group: ConsumerGroup | undefined;
  private joining: Promise<void> | undefined;

  constructor(
    readonly bufferSize: number,
    readonly who: { readonly name: string; readonly username: string; readonly from: string },
    private readonly join: (consumer: GroupConsumer) => Promise<ConsumerGroup>,
  ) {}

  recordLatency(ms: number): void {
    this.latencies.push(ms);
    if (this.latencies.length > LATENCY_WINDOW) this.latencies.shift();
  }

  /** EventStoreDB's measured times of a connection (RequestStatistics): the spread of ack latencies. */
  measurements(): Record<string, number> | undefined {
    if (this.latencies.length === 0) return undefined;
    const sorted = [...this.latencies].sort((a, b) => a - b);
    const at = (fraction: number) => sorted[Math.min(sorted.length - 1, Math.floor(fraction * sorted.length))]!;
    return {
      Mean: Math.round(sorted.reduce((sum, value) => sum + value, 0) / sorted.length),
      Median: at(0.5),
      Fastest: sorted[0]!,
      'Quintile 1': at(0.2), 'Quintile 2': at(0.4), 'Quintile 3': at(0.6), 'Quintile 4': at(0.8), 'Quintile 5': sorted[sorted.length - 1]!,
      '90%': at(0.9), '95%': at(0.95), '99%': at(0.99), '99.5%': at(0.995), '99.9%': at(0.999),
      Highest: sorted[sorted.length - 1]!,
    };
  }

  get availableSlots(): number {
    return Math.max(0, this.bufferSize - this.inFlight);
  }

  /** Called by the group. */
  deliver(message: PersistentEvent): void {
    this.inFlight++;
    this.totalItems++;
    this.queue.push(message);
    this.wakeUp();
  }

  /** Called by the group: the consumer is dropped (group deleted, updated, restarted, store closed). */
  drop(error?: unknown): void {
    if (this.ended) return;
    this.failure = error;
    this.ended = true;
    this.group = undefined;
    this.wakeUp();
  }

  [Symbol.asyncIterator](): AsyncIterator<PersistentEvent> {
    if (this.started) throw new Error('A persistent subscription can be iterated only once');
    this.started = true;
    return {
      next: () => this.next(),
      return: async () => {
        await this.unsubscribe();
        return { done: true, value: undefined };
      },
    };
  }

  joined(): Promise<void> {
    this.joining ??= (async () => {
      if (this.ended) return;
      try {
        const group = await this.join(this);
        if (this.ended) group.leave(this);
        else this.group = group;
      } catch (error) {
        this.drop(error);
        throw error;
      }
    })();
    return this.joining;
  }

  private async next(): Promise<IteratorResult<PersistentEvent>> {
    await this.joined().catch(() => undefined);
    for (;;) {
      const message = this.queue.shift();
      if (message) return { done: false, value: message };
      if (this.ended) {
        const failure = this.failure;
        this.failure = undefined;
        if (failure !== undefined) throw failure;
        return { done: true, value: undefined };
      }
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }

  private wakeUp(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  async ack(...eventIds: string[]): Promise<void> {
    this.group?.ack(this, eventIds.map((id) => id.toLowerCase()));
  }

  async nack(action: NackAction, reason: string, ...eventIds: string[]): Promise<void> {
    this.group?.nack(this, action, reason, eventIds.map((id) => id.toLowerCase()));
  }

  async unsubscribe(): Promise<void> {
    const group = this.group;
    this.drop();
    this.queue.length = 0;
    group?.leave(this);
  }
}
