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

/**
 * Runner options that show catch-up progress on stderr when it is a terminal (a first catch-up of a
 * large log takes a while), one line rewritten in place and cleared at the end.
 */
export function terminalCatchUpProgress(stream: NodeJS.WriteStream = process.stderr): RunnerOptions & { done(): void } {
  if (!stream.isTTY) return { done() {} };
  let shown = false;
  const applied = new Map<string, number>();
  return {
    onCommit(progress) {
      applied.set(progress.projection, (applied.get(progress.projection) ?? 0) + progress.events);
      if (progress.caughtUp && !shown) return;
      shown = true;
      stream.write(`\rcatching up ${progress.projection}: ${applied.get(progress.projection)} events\x1b[K`);
    },
    done() {
      if (shown) stream.write('\r\x1b[K');
    },
  };
}

export async function withReadModels<T>(store: EventStore, options: ReadModelSessionOptions, use: (db: ReadModelDb) => Promise<T> | T): Promise<T> {
  const db = openReadModelDb(options.path ?? defaultReadModelPath(options.storeUri));
  try {
    if (options.catchUp.length > 0) {
      const progress = terminalCatchUpProgress();
      try {
        await catchUpProjections(store, db, options.catchUp, { ...progress, ...options.runner });
      } finally {
        progress.done();
      }
    }
    return await use(db);
  } finally {
    db.close();
  }
}
