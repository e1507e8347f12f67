/**
 * A port subscription over the client's catch-up subscriptions that survives the server going away:
 * on an unavailable/cancelled/ended call it reopens the subscription strictly after the last event
 * (or checkpoint) it queued, with backoff, so the consumer sees no gap and no duplicate.
 *
 * Ordering: the client emits 'caughtUp' and calls `checkpointReached` while it transforms a message,
 * but events transformed earlier may still sit in its readable buffer. Such a signal is therefore
 * queued only after the events buffered at that moment (`readableLength`) have been delivered.
 */
import type { AllStreamSubscription, Position as ClientPosition, ResolvedEvent, StreamSubscription } from '@eventstore/db-client';
import { StreamNotFoundError, UnavailableError } from './errors.js';
import { translateClientError } from './esdb-errors.js';
import { toRecordedEvent } from './esdb-convert.js';
import { WireEvent } from './esdb-wire-event.js';
import { comparePositions, type Position, type RecordedEvent, type Subscription, type SubscriptionMessage } from './port.js';

type ClientSubscription = StreamSubscription | AllStreamSubscription;

/** What is known of an event before its content is decoded: enough to resume after it, or to pass over it. */
export type EventHeader = Pick<RecordedEvent, 'stream' | 'revision' | 'position' | 'type'>;

/** Where to continue: strictly after this revision (stream) or position ($all). */
export type ResumePoint = { readonly revision: bigint } | { readonly position: Position };

export interface SubscriptionSource {
  /** Open the client subscription, after `resume` if given (else from the original start). */
  open(resume: ResumePoint | undefined, onCheckpoint: (from: ClientSubscription, position: ClientPosition) => void): ClientSubscription;
  /** Whether an event is delivered (false: skipped, e.g. EventStoreDB's own `$` events in an unfiltered $all). */
  readonly deliver?: (event: EventHeader & { readonly link?: EventHeader }) => boolean;
  /** Whether the subscription is to `$all` (resume by position) or a stream (resume by revision). */
  readonly kind: 'stream' | 'all';
}

const HIGH_WATER = 2_000;
const LOW_WATER = 500;
const FIRST_RETRY_MS = 100;
const MAX_RETRY_MS = 2_000;

interface PendingSignal {
  remaining: number;
  readonly message: SubscriptionMessage;
}

export class ResilientSubscription implements Subscription {
  readonly #source: SubscriptionSource;
  readonly #onEnd: () => void;
  readonly #queue: SubscriptionMessage[] = [];
  #pendingSignals: PendingSignal[] = [];
  #current: ClientSubscription | undefined;
  #resume: ResumePoint | undefined;
  /** Position of the last event or checkpoint handed to the consumer: later checkpoints must pass it. */
  #lastDelivered: Position | undefined;
  #live = false;
  #ended = false;
  #failure: Error | undefined;
  #wake: (() => void) | undefined;
  #retryTimer: NodeJS.Timeout | undefined;
  #retryDelay = FIRST_RETRY_MS;

  constructor(source: SubscriptionSource, onEnd: () => void) {
    this.#source = source;
    this.#onEnd = onEnd;
    this.#open();
  }

  #open(): void {
    if (this.#ended) return;
    let subscription: ClientSubscription;
    try {
      subscription = this.#source.open(this.#resume, (from, position) => {
        if (from === this.#current) this.#signal(from, { kind: 'checkpoint', position: { commit: position.commit, prepare: position.prepare } });
      });
    } catch (error) {
      // Runs from a retry timer too: a throw here must end the subscription, not the process.
      this.#fail(translateClientError(error));
      return;
    }
    this.#current = subscription;
    subscription.on('data', (resolved: ResolvedEvent | WireEvent) => {
      if (subscription === this.#current) this.#onEvent(resolved);
    });
    subscription.on('confirmation', () => {
      if (subscription === this.#current) this.#retryDelay = FIRST_RETRY_MS;
    });
    subscription.on('caughtUp', () => {
      if (subscription === this.#current) this.#signal(subscription, { kind: 'caughtUp' });
    });
    subscription.on('error', (error: Error) => this.#onBroken(subscription, error));
    subscription.on('end', () => this.#onBroken(subscription, undefined));
    subscription.on('close', () => this.#onBroken(subscription, undefined));
  }

  #onEvent(resolved: ResolvedEvent | WireEvent): void {
    if (resolved instanceof WireEvent) this.#queueEvent(resolved, () => resolved.toRecorded());
    else {
      const event = toRecordedEvent(resolved);
      if (event) this.#queueEvent(event, () => event);
    }
    // Signals wait for the events that were buffered before them.
    const ready: SubscriptionMessage[] = [];
    this.#pendingSignals = this.#pendingSignals.filter((signal) => {
      signal.remaining -= 1;
      if (signal.remaining > 0) return true;
      ready.push(signal.message);
      return false;
    });
    for (const message of ready) this.#queueSignal(message);
  }

  /** An event, by its header; its content is decoded (`decode`) only when it is delivered. */
  #queueEvent(event: EventHeader & { readonly link?: EventHeader }, decode: () => RecordedEvent | undefined): void {
    const resume = this.#resume;
    // A resolved link was read where the link is: that is the place to resume from.
    const read = event.link ?? event;
    if (resume) {
      const seen = 'revision' in resume ? read.revision <= resume.revision : comparePositions(read.position, resume.position) <= 0;
      if (seen) return;
    }
    this.#resume = this.#source.kind === 'stream' ? { revision: read.revision } : { position: read.position };
    if (this.#source.deliver && !this.#source.deliver(event)) return;
    const recorded = decode();
    if (!recorded) return;
    this.#lastDelivered = read.position;
    this.#push({ kind: 'event', event: recorded });
  }

  #signal(from: ClientSubscription, message: SubscriptionMessage): void {
    const buffered = from.readableLength;
    if (buffered === 0) this.#queueSignal(message);
    else this.#pendingSignals.push({ remaining: buffered, message });
  }

  #queueSignal(message: SubscriptionMessage): void {
    if (message.kind === 'caughtUp') {
      if (this.#live) return;
      this.#live = true;
    } else if (message.kind === 'checkpoint') {
      // A checkpoint at or before what was delivered says nothing new. One at an event that was read
      // but not delivered (skipped) is news to the consumer, though the resume point is already there.
      if (this.#lastDelivered && comparePositions(message.position, this.#lastDelivered) <= 0) return;
      this.#lastDelivered = message.position;
      const resume = this.#resume;
      if (!resume || ('position' in resume && comparePositions(message.position, resume.position) > 0)) this.#resume = { position: message.position };
    }
    this.#push(message);
  }

  #push(message: SubscriptionMessage): void {
    this.#queue.push(message);
    if (this.#queue.length >= HIGH_WATER) this.#current?.pause();
    this.#notify();
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  #onBroken(subscription: ClientSubscription, error: Error | undefined): void {
    if (subscription !== this.#current || this.#ended) return;
    this.#current = undefined;
    this.#pendingSignals = [];
    subscription.removeAllListeners('data');
    void subscription.unsubscribe().catch(() => undefined);
    const translated = error ? translateClientError(error) : new UnavailableError('The subscription ended');
    // A stream that does not exist yet is simply empty to a catch-up subscription.
    if (!(translated instanceof UnavailableError) && !(translated instanceof StreamNotFoundError)) {
      this.#fail(translated);
      return;
    }
    if (this.#live) {
      this.#live = false;
      this.#push({ kind: 'fellBehind' });
    }
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = undefined;
      this.#open();
    }, this.#retryDelay);
    this.#retryDelay = Math.min(this.#retryDelay * 2, MAX_RETRY_MS);
  }

  #fail(error: Error): void {
    this.#failure = error;
    this.#stop();
  }

  #stop(): void {
    if (this.#ended) return;
    this.#ended = true;
    if (this.#retryTimer) clearTimeout(this.#retryTimer);
    const current = this.#current;
    this.#current = undefined;
    if (current) {
      current.removeAllListeners('data');
      current.on('error', () => undefined);
      void current.unsubscribe().catch(() => undefined);
    }
    this.#onEnd();
    this.#notify();
  }

  async unsubscribe(): Promise<void> {
    // The consumer asked to stop: what is still queued is not delivered.
    this.#queue.length = 0;
    this.#stop();
  }

  async #next(): Promise<IteratorResult<SubscriptionMessage>> {
    for (;;) {
      const message = this.#queue.shift();
      if (message) {
        if (this.#queue.length <= LOW_WATER && this.#current?.isPaused()) this.#current.resume();
        return { value: message, done: false };
      }
      if (this.#failure) {
        const failure = this.#failure;
        this.#failure = undefined;
        throw failure;
      }
      if (this.#ended) return { value: undefined, done: true };
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
      });
    }
  }

  [Symbol.asyncIterator](): AsyncIterator<SubscriptionMessage> {
    return {
      next: () => this.#next(),
      return: async () => {
        this.#stop();
        return { value: undefined, done: true };
      },
    };
  }
}
