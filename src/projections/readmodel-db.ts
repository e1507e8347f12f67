/**
 * The read-model database: a better-sqlite3 file of its own, separate from the event store, so read
 * models work over any store backend (sqlite, memory, esdb) and can be deleted and rebuilt at will.
 */
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname, join, parse } from 'node:path';
import { installBookkeeping } from './bookkeeping.js';

export type ReadModelDb = Database.Database;

/**
 * Where the read models of a store live unless told otherwise: `:memory:` for a `memory:` store (it
 * dies with the process anyway), next to the file for `sqlite:<dir>/<name>.db` (`<dir>/readmodels.db`
 * for the default store name, `<dir>/<name>.readmodels.db` otherwise), `.cadenza/readmodels.db` for
 * a remote store. `CADENZA_READMODELS` overrides all of these.
 */
export function defaultReadModelPath(storeUri: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  if (env.CADENZA_READMODELS) return env.CADENZA_READMODELS;
  const uri = storeUri ?? env.CADENZA_STORE;
  if (uri === undefined || uri === '') return join('.cadenza', 'readmodels.db');
  if (uri.startsWith('memory:')) return ':memory:';
  if (uri.startsWith('sqlite:')) {
    const file = uri.slice('sqlite:'.length).split('?')[0] ?? '';
    if (file === '' || file === ':memory:') return ':memory:';
    const { dir, name } = parse(file);
    return join(dir, name === 'store' || name === 'events' || name === 'cadenza' ? 'readmodels.db' : `${name}.readmodels.db`);
  }
  return join('.cadenza', 'readmodels.db');
}

export interface OpenReadModelOptions {
  /** Default true. Off only for throwaway benchmark databases: a power cut may then lose the last commits (never corrupt them). */
  readonly durable?: boolean;
}

export function openReadModelDb(path: string, options: OpenReadModelOptions = {}): ReadModelDb {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  // NORMAL in WAL mode never corrupts; a power cut may lose the newest transactions, which is
  // harmless here: checkpoint and read model are lost together and the runner re-folds them.
  db.pragma(`synchronous = ${options.durable === false ? 'OFF' : 'NORMAL'}`);
  db.pragma('busy_timeout = 10000');
  // Index maintenance (the audit index has eight) stays in memory: 64 MiB of page cache.
  db.pragma('cache_size = -65536');
  installBookkeeping(db);
  return db;
}
