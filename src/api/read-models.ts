/**
 * The read models a long-running API server answers from: one read-model database, brought up to
 * date before each answer (so a workflow the caller just ran is in the list), one catch-up at a time
 * (one SQLite writer). At the head of the log a catch-up reads nothing but the head, so this costs
 * little; a server that wants them kept warm can also run `runProjections` beside it.
 */
import type { ProjectionName } from '../projections/catalogue.js';
import { catchUpProjections } from '../projections/catch-up.js';
import type { ReadModelDb } from '../projections/readmodel-db.js';
import type { EventStore } from '../store/port.js';

export class ReadModels {
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    readonly store: EventStore,
    readonly db: ReadModelDb,
  ) {}

  /** Bring `names` up to date, then answer from the database. */
  fresh<T>(names: readonly ProjectionName[], use: (db: ReadModelDb) => T | Promise<T>): Promise<T> {
    const run = this.queue.then(async () => {
      await catchUpProjections(this.store, this.db, names);
      return use(this.db);
    });
    this.queue = run.catch(() => undefined);
    return run;
  }
}
