/**
 * The store port, counting what it hands over: every event a stream read, a `$all` read or a `$all`
 * subscription delivers, and where each subscription started. Start-up tests assert through it that
 * a reader reads what it needs, not the history (a count, never a timing). `beforeRead` lets a test
 * act at a chosen moment of a reader's start-up (another process appending, say) before a read of a
 * stream begins.
 */
import type { EventStore, Position, RecordedEvent, Subscription, SubscriptionMessage } from '../../src/store/port.js';

export class CountingStore {
  events = 0;
  /** `fromPosition` of every `$all` subscription opened through the port, in order. */
  readonly subscribedFrom: ('start' | 'end' | Position)[] = [];

  constructor(
    readonly inner: EventStore,
    private readonly beforeRead?: (stream: string) => Promise<void>,
  ) {}

  port(): EventStore {
    const counted = (): void => void this.events++;
    const count = <T>(source: () => AsyncIterable<T>, isEvent: (item: T) => boolean, stream?: string): AsyncIterable<T> => {
      const beforeRead = this.beforeRead;
      return {
        async *[Symbol.asyncIterator]() {
          if (stream !== undefined && beforeRead) await beforeRead(stream);
          for await (const item of source()) {
            if (isEvent(item)) counted();
            yield item;
          }
        },
      };
    };
    const inner = this.inner;
    return new Proxy(inner, {
      get: (target, property, receiver) => {
        if (property === 'readStream') {
          return (...args: Parameters<EventStore['readStream']>) => count<RecordedEvent>(() => inner.readStream(...args), () => true, args[0]);
        }
        if (property === 'readAll') return (...args: Parameters<EventStore['readAll']>) => count<RecordedEvent>(() => inner.readAll(...args), () => true);
        if (property === 'subscribeToAll') {
          return (...args: Parameters<EventStore['subscribeToAll']>): Subscription => {
            this.subscribedFrom.push(args[0]?.fromPosition ?? 'start');
            const subscription = inner.subscribeToAll(...args);
            const events = count<SubscriptionMessage>(() => subscription, (message) => message.kind === 'event');
            return { [Symbol.asyncIterator]: () => events[Symbol.asyncIterator](), unsubscribe: () => subscription.unsubscribe() };
          };
        }
        const value = Reflect.get(target, property, receiver) as unknown;
        return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
      },
    });
  }
}
