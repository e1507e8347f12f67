/**
 * What the runner needs from a read model. A projection is a pure fold plus its storage; this
 * interface is the storage side the runner drives inside one SQLite transaction per batch:
 * `apply` each event, then `flush` what was buffered, then the runner saves the checkpoint. If the
 * transaction rolls back, `discard` drops whatever the projection cached, so memory never runs ahead
 * of the database.
 */
import type { Database } from 'better-sqlite3';
import type { EventStore, RecordedEvent } from '../store/port.js';

/** Which streams of `$all` a projection reads (a server-side filter, so other events never reach it). */
export type StreamFilter = { readonly streamNamePrefix: readonly string[] } | { readonly streamNameRegex: string };

export interface Projection {
  /** Unique, stable: the checkpoint and the poison records are kept under this name. */
  readonly name: string;
  /** Bump when the fold or the storage changes meaning: a stored read model of another version is rebuilt from zero. */
  readonly version: number;
  /** The `$all` subscription is filtered to these streams, e.g. `{ streamNamePrefix: ['workflow-'] }`. */
  readonly filter: StreamFilter;
  /** Create the tables (idempotent). */
  install(db: Database): void;
  /** Delete every row of the read model (rebuild from zero). */
  clear(db: Database): void;
  /**
   * Fold one event in. Throwing anything but a SQLite error marks the event as poison: it is recorded
   * and skipped, and whatever this call buffered for it is dropped.
   */
  apply(db: Database, event: RecordedEvent): void;
  /** Load, before `apply`, what decoding `event` needs that is not in it (see DocFold.prepare). */
  prepare?(store: EventStore, event: RecordedEvent): Promise<void> | undefined;
  /** Write what `apply` buffered; runs in the same transaction, just before the checkpoint is saved. */
  flush(db: Database): void;
  /** The transaction rolled back (or another process moved the checkpoint): forget cached state. */
  discard(): void;
}

/** Thrown by a decoder for an event the fold cannot understand (unparseable, unknown version). */
export class PoisonEventError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PoisonEventError';
  }
}

/** One-line reason for an error thrown while folding an event. */
export function describeFailure(error: unknown): string {
  if (error instanceof Error) return `${error.name === 'Error' ? '' : `${error.name}: `}${error.message}`.split('\n').join(' ');
  return String(error);
}
