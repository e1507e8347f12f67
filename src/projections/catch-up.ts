/**
 * Bringing read models up to date: what the CLI does before it answers from them (there is no
 * separate daemon to run), and what a long-running process does forever with `runProjections`.
 */
import type { EventStore } from '../store/port.js';
import { createProjections, type ProjectionName } from './catalogue.js';
import type { ReadModelDb } from './readmodel-db.js';
import { ProjectionRunner, type RunnerOptions, type RunnerStatus } from './runner.js';

/** Fold every named projection up to the head of `$all`; they catch up one after another (one SQLite writer). */
export async function catchUpProjections(
  store: EventStore,
  db: ReadModelDb,
  names?: readonly ProjectionName[],
  options: RunnerOptions = {},
): Promise<RunnerStatus[]> {
  const statuses: RunnerStatus[] = [];
  for (const projection of createProjections(names)) {
    statuses.push(await new ProjectionRunner(store, db, projection, options).catchUp());
  }
  return statuses;
}

export interface RunningProjections {
  readonly runners: readonly ProjectionRunner[];
  /** Stop every runner; resolves once each has committed its last batch. */
  stop(): Promise<void>;
  /** Resolves when every runner has stopped; rejects with the first failure. */
  readonly done: Promise<void>;
}

/** Follow the named projections live until stopped. */
export function runProjections(store: EventStore, db: ReadModelDb, names?: readonly ProjectionName[], options: RunnerOptions = {}): RunningProjections {
  const runners = createProjections(names).map((projection) => new ProjectionRunner(store, db, projection, options));
  const done = Promise.all(runners.map((runner) => runner.run())).then(() => undefined);
  return {
    runners,
    done,
    async stop() {
      await Promise.all(runners.map((runner) => runner.stop()));
      await done;
    },
  };
}
