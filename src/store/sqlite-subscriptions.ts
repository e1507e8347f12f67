/**
 * Catch-up subscriptions. Catch-up and live are the same loop: read the next page after the cursor
 * from the table; when a page comes back short the subscription is caught up and waits for a change.
 * Because live events are read from the table too, the switch can neither skip nor repeat an event,
 * and a slow consumer costs no memory beyond one page (so `fellBehind` is never needed).
 */
import { StreamDeletedError } from './errors.js';
import type { SubscriptionMessage, Subscription } from './port.js';
import type { ChangeSignal } from './sqlite-change-signal.js';
import { decodeEvent, type Statements } from './sqlite-rows.js';
import { streamState, toPosition } from './sqlite-writes.js';
import type { CompiledFilter } from './validation.js';

/** The next page of messages after a source's cursor; `exhausted` when the log has no more for now. */
export interface PageSource {
  next(): { readonly messages: SubscriptionMessage[]; readonly exhausted: boolean };
}

const DONE: IteratorReturnResult<undefined> = Object.freeze({ done: true, value: undefined });

export class StoreSubscription implements Subscription {
  private stopped = false;
  private started = false;
  private caughtUp = false;
  private buffer: SubscriptionMessage[] = [];
  private index = 0;
  private cancelWait: (() => void) | undefined;

  constructor(
    private readonly source: PageSource,
    private readonly signal: ChangeSignal,
    private readonly onEnd: (subscription: StoreSubscription) => void,
  ) {}

  [Symbol.asyncIterator](): AsyncIterator<SubscriptionMessage> {
    if (this.started) throw new Error('A subscription can be iterated only once');
    this.started = true;
    // A plain iterator, not an async generator: a buffered message is handed out without a suspend.
    return {
      next: () => {
        if (this.stopped) return Promise.resolve(DONE);
        if (this.index < this.buffer.length) return Promise.resolve({ done: false, value: this.buffer[this.index++] as SubscriptionMessage });
        return this.refill();
      },
      return: async () => {
        await this.unsubscribe();
        return DONE;
      },
    };
  }

  async unsubscribe(): Promise<void> {
    this.stopped = true;
    this.buffer = [];
    this.cancelWait?.();
    this.onEnd(this);
  }

  /** Read the next page; when there is none, say `caughtUp` once, then wait for a commit. */
  private async refill(): Promise<IteratorResult<SubscriptionMessage>> {
    try {
      while (!this.stopped) {
        // Taken before the read, so a commit landing after the read always ends the wait below.
        const token = this.signal.token();
        const { messages, exhausted } = this.source.next();
        if (exhausted && !this.caughtUp) {
          this.caughtUp = true;
          messages.push({ kind: 'caughtUp' });
        }
        if (messages.length > 0) {
          this.buffer = messages;
          this.index = 1;
          return { done: false, value: messages[0] as SubscriptionMessage };
        }
        if (!exhausted) {
          // A page the filter emptied (possible when the checkpoint interval exceeds the page size):
          // let other work run before scanning on.
          await new Promise((resolve) => setImmediate(resolve));
          continue;
        }
        const wait = this.signal.wait(token);
        this.cancelWait = wait.cancel;
        await wait.changed;
        this.cancelWait = undefined;
      }
      return DONE;
    } catch (error) {
      await this.unsubscribe();
      throw error;
    }
  }
}

export function allSource(
  statements: Statements,
  pageSize: number,
  afterPosition: number,
  filter: CompiledFilter | undefined,
  checkpointInterval: number,
): PageSource {
  let cursor = afterPosition;
  let considered = 0;
  const column = filter?.on === 'type' ? 4 : 1;
  return {
    next() {
      const rows = statements.allForwards.all(cursor, pageSize);
      const messages: SubscriptionMessage[] = [];
      for (const row of rows) {
        cursor = row[0];
        if (!filter) {
          messages.push({ kind: 'event', event: decodeEvent(row) });
          continue;
        }
        if (filter.matches(row[column])) messages.push({ kind: 'event', event: decodeEvent(row) });
        considered += 1;
        if (considered % checkpointInterval === 0) messages.push({ kind: 'checkpoint', position: toPosition(cursor) });
      }
      return { messages, exhausted: rows.length < pageSize };
    },
  };
}

export function streamSource(statements: Statements, pageSize: number, stream: string, afterRevision: number): PageSource {
  let cursor = afterRevision;
  return {
    next() {
      const state = streamState(statements, stream);
      if (state.tombstoned) throw new StreamDeletedError(stream);
      const from = Math.max(cursor + 1, state.truncate_before);
      const rows = statements.streamForwards.all(state.id, from, Number.MAX_SAFE_INTEGER, 0, pageSize);
      const messages: SubscriptionMessage[] = rows.map((row) => ({ kind: 'event', event: decodeEvent(row) }));
      if (rows.length > 0) cursor = (rows[rows.length - 1] as (typeof rows)[number])[2];
      return { messages, exhausted: rows.length < pageSize };
    },
  };
}
