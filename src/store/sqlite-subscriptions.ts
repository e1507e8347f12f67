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

export class StoreSubscription implements Subscription {
  private stopped = false;
  private started = false;
  private cancelWait: (() => void) | undefined;

  constructor(
    private readonly source: PageSource,
    private readonly signal: ChangeSignal,
    private readonly onEnd: (subscription: StoreSubscription) => void,
  ) {}

  [Symbol.asyncIterator](): AsyncIterator<SubscriptionMessage> {
    if (this.started) throw new Error('A subscription can be iterated only once');
    this.started = true;
    return this.run();
  }

  async unsubscribe(): Promise<void> {
    this.stopped = true;
    this.cancelWait?.();
    this.onEnd(this);
  }

  private async *run(): AsyncGenerator<SubscriptionMessage> {
    let caughtUp = false;
    try {
      while (!this.stopped) {
        // Taken before the read, so a commit landing after the read always ends the wait below.
        const token = this.signal.token();
        const { messages, exhausted } = this.source.next();
        for (const message of messages) {
          yield message;
          if (this.stopped) return;
        }
        if (!exhausted) continue;
        if (!caughtUp) {
          caughtUp = true;
          yield { kind: 'caughtUp' };
          if (this.stopped) return;
        }
        const wait = this.signal.wait(token);
        this.cancelWait = wait.cancel;
        await wait.changed;
        this.cancelWait = undefined;
      }
    } finally {
      this.stopped = true;
      this.onEnd(this);
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
      const rows = statements.streamForwards.all(stream, from, Number.MAX_SAFE_INTEGER, 0, pageSize);
      const messages: SubscriptionMessage[] = rows.map((row) => ({ kind: 'event', event: decodeEvent(row) }));
      if (rows.length > 0) cursor = (rows[rows.length - 1] as (typeof rows)[number])[2];
      return { messages, exhausted: rows.length < pageSize };
    },
  };
}
