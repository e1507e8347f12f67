/**
 * Answering from read models in a short-lived process (the CLI): open the read-model database for
 * a store, bring the projections it needs up to date (there is no daemon to rely on), use, close.
 */
import type { EventStore } from '../store/port.js';
import type { ProjectionName } from './catalogue.js';
import { catchUpProjections } from './catch-up.js';
import { defaultReadModelPath, openReadModelDb, type ReadModelDb } from './readmodel-db.js';
import type { RunnerOptions } from './runner.js';

export interface ReadModelSessionOptions {
  /** Store URI the read models belong to (for the default path). */
  readonly storeUri?: string;
  /** Read-model database path; default from the store URI (see `defaultReadModelPath`). */
  readonly path?: string;
  /** Projections to bring up to date first; none for `[]`. */
  readonly catchUp: readonly ProjectionName[];
  readonly runner?: RunnerOptions;
}

export async function withReadModels<T>(store: EventStore, options: ReadModelSessionOptions, use: (db: ReadModelDb) => Promise<T> | T): Promise<T> {
  const db = openReadModelDb(options.path ?? defaultReadModelPath(options.storeUri));
  try {
    if (options.catchUp.length > 0) await catchUpProjections(store, db, options.catchUp, options.runner);
    return await use(db);
  } finally {
    db.close();
  }
}
