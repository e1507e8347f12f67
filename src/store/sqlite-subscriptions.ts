/**
 * Catch-up subscriptions. Catch-up and live are the same loop: read the next page after the cursor
 * from the table; when a page comes back short the subscription is caught up and waits for a change.
 * Because live events are read from the table too, the switch can neither skip nor repeat an event,
 * and a slow consumer costs no memory beyond one page (so `fellBehind` is never needed).
 */
import { StreamDeletedError } from './errors.js';
import type { SubscriptionMessage, Subscription } from './port.js';
import type { ChangeSignal } from './sqlite-change-signal.js';
import type { LocalAppends } from './sqlite-local-appends.js';
import { decodeEvent, type EventRow, type Statements } from './sqlite-rows.js';
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

/** Which events of a page to pass over without reading them in full. */
export interface AllSourceSelection {
  readonly filter: CompiledFilter | undefined;
  readonly checkpointInterval: number;
  readonly skip: ((stream: string, revision: bigint) => boolean) | undefined;
  /** This store's recent appends: with a stream-prefix filter, their headers are read from here. */
  readonly localAppends?: LocalAppends;
}

export function allSource(statements: Statements, pageSize: number, afterPosition: number, selection: AllSourceSelection): PageSource {
  const { filter, checkpointInterval, skip } = selection;
  let cursor = afterPosition;
  let considered = 0;
  // Without a filter or skip every row is delivered: one query reads the page whole.
  if (!filter && !skip) {
    return {
      next() {
        const rows = statements.allForwards.all(cursor, pageSize);
        const messages: SubscriptionMessage[] = new Array(rows.length);
        for (let i = 0; i < rows.length; i++) messages[i] = { kind: 'event', event: decodeEvent(rows[i] as EventRow) };
        if (rows.length > 0) cursor = (rows[rows.length - 1] as EventRow)[0];
        return { messages, exhausted: rows.length < pageSize };
      },
    };
  }
  const isDelivered = (stream: string, revision: number) => !(skip && skip(stream, BigInt(revision)));
  if (filter?.prefixes) {
    // A prefix filter is tested by SQLite as it scans a range of positions: rows that do not match
    // never become JavaScript values. Positions are dense (rows are never removed), so the events
    // considered in a range are counted by its width, and checkpoints fall every
    // `checkpointInterval` positions, exactly where counting the rows would put them.
    const prefixes = filter.prefixes.flatMap((prefix) => [prefix, prefix]);
    const matching = statements.headersWithPrefix(filter.on, filter.prefixes.length);
    // A range this store appended itself is read from its memory of those appends (stream and
    // revision are all a stream-prefix filter and `skip` need), not from the table.
    const local = filter.on === 'stream' ? selection.localAppends : undefined;
    let nextCheckpoint = cursor + checkpointInterval;
    return {
      next() {
        const head = statements.headPosition.get() ?? 0;
        const end = Math.min(cursor + pageSize, head);
        if (end <= cursor) return { messages: [], exhausted: true };
        const messages: SubscriptionMessage[] = [];
        const slots: number[] = [];
        const wanted: number[] = [];
        // One matching event's header: checkpoints before it, then the event (unless skipped).
        const consider = (position: number, stream: string, revision: number): void => {
          for (; nextCheckpoint < position; nextCheckpoint += checkpointInterval) messages.push({ kind: 'checkpoint', position: toPosition(nextCheckpoint) });
          if (isDelivered(stream, revision)) {
            slots.push(messages.length);
            wanted.push(position);
            messages.push(UNREAD);
          }
          if (nextCheckpoint === position) {
            messages.push({ kind: 'checkpoint', position: toPosition(position) });
            nextCheckpoint += checkpointInterval;
          }
        };
        const fromMemory =
          local !== undefined &&
          local.visit(cursor + 1, end, (position, stream, revision) => {
            if (filter.matches(stream)) consider(position, stream, revision);
          });
        if (!fromMemory) for (const header of matching.all(cursor, end, ...prefixes)) consider(header[0], header[1], header[2]);
        for (; nextCheckpoint <= end; nextCheckpoint += checkpointInterval) messages.push({ kind: 'checkpoint', position: toPosition(nextCheckpoint) });
        cursor = end;
        return { messages: withEvents(statements, messages, slots, wanted), exhausted: end >= head };
      },
    };
  }
  // Otherwise the page's headers are read first and only the events delivered are read in full:
  // a filter that rarely matches (the agent registry's) or a subscriber that already knows most
  // events (the runtime reading back its own appends) costs a few columns per row, not the payload.
  const matchColumn = filter?.on === 'type' ? 3 : 1;
  return {
    next() {
      const headers = statements.allHeadersForwards.all(cursor, pageSize);
      const messages: SubscriptionMessage[] = [];
      // Indices into `messages` of the events still to be read, and their positions.
      const slots: number[] = [];
      const wanted: number[] = [];
      for (const header of headers) {
        cursor = header[0];
        const delivered = (!filter || filter.matches(header[matchColumn])) && isDelivered(header[1], header[2]);
        if (delivered) {
          slots.push(messages.length);
          wanted.push(header[0]);
          messages.push(UNREAD);
        }
        if (filter) {
          considered += 1;
          if (considered % checkpointInterval === 0) messages.push({ kind: 'checkpoint', position: toPosition(cursor) });
        }
      }
      return { messages: withEvents(statements, messages, slots, wanted), exhausted: headers.length < pageSize };
    },
  };
}

/** Holds an event's place in a page until the event is read. */
const UNREAD: SubscriptionMessage = Object.freeze({ kind: 'fellBehind' });

/** The page's messages with the wanted events read in; their slots hold {@link UNREAD} until then. */
function withEvents(statements: Statements, messages: SubscriptionMessage[], slots: readonly number[], wanted: readonly number[]): SubscriptionMessage[] {
  if (wanted.length === 0) return messages;
  fillEvents(statements, messages, slots, wanted);
  // Rows are never removed, so every slot is filled; should one not be, it is left out, not faked.
  return messages.includes(UNREAD) ? messages.filter((message) => message !== UNREAD) : messages;
}

/** Read the wanted events of a page: one range query when most of the range is wanted, else one by one. */
function fillEvents(statements: Statements, messages: SubscriptionMessage[], slots: readonly number[], wanted: readonly number[]): void {
  const first = wanted[0] as number;
  const last = wanted[wanted.length - 1] as number;
  if (wanted.length * 2 >= last - first + 1) {
    let next = 0;
    for (const row of statements.allRange.all(first, last)) {
      if (row[0] !== wanted[next]) continue;
      messages[slots[next] as number] = { kind: 'event', event: decodeEvent(row) };
      next += 1;
    }
    return;
  }
  for (let i = 0; i < wanted.length; i++) {
    const row = statements.eventAt.get(wanted[i] as number);
    if (row) messages[slots[i] as number] = { kind: 'event', event: decodeEvent(row) };
  }
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
