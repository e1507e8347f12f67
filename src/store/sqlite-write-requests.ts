/**
 * Write requests of the sqlite store as plain data, so that the same writes can run on the calling
 * thread's connection or in the store's writer thread, through one batch runner, and their refusals
 * can cross the thread boundary as data and come back as the same typed errors.
 */
import { StoreError, StreamDeletedError, WrongExpectedVersionError, type StoreErrorCode } from './errors.js';
import type { AppendResult, DeleteResult, ExpectedRevision, StreamMetadata } from './port.js';
import * as writes from './sqlite-writes.js';
import type { SerializedEvent } from './validation.js';

export type WriteRequest =
  | { readonly kind: 'append'; readonly stream: string; readonly events: readonly SerializedEvent[]; readonly expected: ExpectedRevision; readonly now: number }
  | { readonly kind: 'delete'; readonly stream: string; readonly expected: ExpectedRevision; readonly tombstone: boolean }
  | { readonly kind: 'setMetadata'; readonly stream: string; readonly metadata: StreamMetadata; readonly expected: ExpectedRevision };

export type WriteResult = AppendResult | DeleteResult;

/** Run one request inside the current write transaction. Throws a StoreError (before writing) to refuse it. */
export function runWrite(context: writes.WriteContext, request: WriteRequest): WriteResult {
  switch (request.kind) {
    case 'append':
      return writes.appendEvents(context, request.stream, request.events, request.expected, request.now);
    case 'delete':
      return writes.deleteStream(context, request.stream, request.expected, request.tombstone);
    case 'setMetadata':
      return writes.setStreamMetadata(context, request.stream, request.metadata, request.expected);
  }
}

/** A refusal as data (structured-clone safe). */
export type RefusalData =
  | { readonly type: 'wrong-expected-version'; readonly stream: string; readonly expected: ExpectedRevision; readonly actual: bigint | 'no_stream' }
  | { readonly type: 'stream-deleted'; readonly stream: string }
  | { readonly type: 'other'; readonly code: StoreErrorCode; readonly name: string; readonly message: string };

export function refusalData(error: StoreError): RefusalData {
  if (error instanceof WrongExpectedVersionError) return { type: 'wrong-expected-version', stream: error.stream, expected: error.expected, actual: error.actual };
  if (error instanceof StreamDeletedError) return { type: 'stream-deleted', stream: error.stream };
  return { type: 'other', code: error.code, name: error.name, message: error.message };
}

export function refusalError(data: RefusalData): StoreError {
  if (data.type === 'wrong-expected-version') return new WrongExpectedVersionError(data.stream, data.expected, data.actual);
  if (data.type === 'stream-deleted') return new StreamDeletedError(data.stream);
  const error = new StoreError(data.code, data.message);
  error.name = data.name;
  return error;
}

/**
 * Batches cross to the writer thread as one flat array of primitives: structured cloning costs per
 * object, and a batch of appends as objects (an object per event) cost the sending thread about a
 * tenth of its time. An append is `'a', stream, expected, now, count, (id, type, data, metadata) x count`.
 */
export type PackedRequests = unknown[];

export function packRequests(requests: readonly WriteRequest[]): PackedRequests {
  // Sized first and filled by index: a growing array would leave its outgrown copies behind.
  let size = 0;
  for (const request of requests) size += request.kind === 'append' ? 5 + 4 * request.events.length : 4;
  const packed: unknown[] = new Array(size);
  let at = 0;
  for (const request of requests) {
    if (request.kind === 'append') {
      packed[at++] = 'a';
      packed[at++] = request.stream;
      packed[at++] = request.expected;
      packed[at++] = request.now;
      packed[at++] = request.events.length;
      for (const event of request.events) {
        packed[at++] = event.id;
        packed[at++] = event.type;
        packed[at++] = event.data;
        packed[at++] = event.metadata;
      }
    } else {
      packed[at++] = request.kind === 'delete' ? 'd' : 'm';
      packed[at++] = request.stream;
      packed[at++] = request.expected;
      packed[at++] = request.kind === 'delete' ? request.tombstone : request.metadata;
    }
  }
  return packed;
}

export function unpackRequests(packed: PackedRequests): WriteRequest[] {
  const requests: WriteRequest[] = [];
  let at = 0;
  while (at < packed.length) {
    const kind = packed[at];
    const stream = packed[at + 1] as string;
    const expected = packed[at + 2] as ExpectedRevision;
    if (kind === 'a') {
      const now = packed[at + 3] as number;
      const count = packed[at + 4] as number;
      at += 5;
      const events: SerializedEvent[] = new Array(count);
      for (let i = 0; i < count; i++, at += 4) {
        events[i] = { id: packed[at] as string, type: packed[at + 1] as string, data: packed[at + 2] as string, metadata: packed[at + 3] as string | null };
      }
      requests.push({ kind: 'append', stream, expected, now, events });
    } else {
      const last = packed[at + 3];
      at += 4;
      if (kind === 'd') requests.push({ kind: 'delete', stream, expected, tombstone: last as boolean });
      else requests.push({ kind: 'setMetadata', stream, expected, metadata: last as StreamMetadata });
    }
  }
  return requests;
}

/**
 * Outcomes come back flat too, five slots each: `true, nextExpectedRevision | null, commit, prepare,
 * written` (event rows the request inserted: 0 for an idempotent re-append, a delete or metadata) or
 * `false, refusal, null, null, 0`.
 */
export type PackedOutcomes = unknown[];

export const OUTCOME_SLOTS = 5;

export type WriteOutcome = { readonly ok: true; readonly value: WriteResult; readonly written: number } | { readonly ok: false; readonly error: StoreError };

export function packOutcome(packed: PackedOutcomes, outcome: { ok: true; value: WriteResult; written: number } | { ok: false; refusal: RefusalData }): void {
  if (!outcome.ok) {
    packed.push(false, outcome.refusal, null, null, 0);
    return;
  }
  const { value } = outcome;
  packed.push(true, 'nextExpectedRevision' in value ? value.nextExpectedRevision : null, value.position.commit, value.position.prepare, outcome.written);
}

/** The outcome of the `index`th request of a batch: its result, or its refusal as an error. */
export function unpackOutcome(packed: PackedOutcomes, index: number): WriteOutcome {
  const at = index * OUTCOME_SLOTS;
  if (packed[at] !== true) return { ok: false, error: refusalError(packed[at + 1] as RefusalData) };
  const position = { commit: packed[at + 2] as bigint, prepare: packed[at + 3] as bigint };
  const next = packed[at + 1];
  return { ok: true, value: next === null ? { position } : { nextExpectedRevision: next as bigint, position }, written: packed[at + 4] as number };
}
