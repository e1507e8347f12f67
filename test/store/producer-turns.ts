/**
 * A producer of appends as the writer's policy sees it (docs/store.md, "The writer thread"): turns
 * of the event loop that queue appends, with the producer's own work between them measured on a
 * clock the test moves (performance.now, which the writer measures with), so that the policy sees
 * the same producer on any machine.
 */
import Database from 'better-sqlite3';
import { vi } from 'vitest';
import type { SqliteEventStore } from '../../src/store/sqlite-store.js';
import { event } from './contract/helpers.js';

/**
 * One turn that queues `count` appends, its producer spending `busyMicros` before each. `during`
 * runs after each append, in the turn.
 */
export function turn(store: SqliteEventStore, clock: { now: number }, round: number, count: number, busyMicros: number, during?: (queued: number) => void): Promise<unknown> {
  const appends: Promise<unknown>[] = [];
  for (let index = 0; index < count; index++) {
    clock.now += busyMicros / 1000;
    appends.push(store.append(`where-${index % 4}`, [event('Written', { round, index })]));
    during?.(index + 1);
  }
  return Promise.all(appends);
}

/** performance.now moved by hand (restore with vi.restoreAllMocks). */
export function movedClock(): { now: number } {
  const clock = { now: 0 };
  vi.spyOn(performance, 'now').mockImplementation(() => clock.now);
  return clock;
}

/** Another connection's view of a file store: how many of a round's appends are committed. */
export function committedCounter(path: string): { committed: (round: number) => number; close: () => void } {
  const reader = new Database(path, { readonly: true });
  return {
    committed: (round) => (reader.prepare("SELECT count(*) AS n FROM events WHERE json_extract(data, '$.round') = ?").get(round) as { n: number }).n,
    close: () => reader.close(),
  };
}
