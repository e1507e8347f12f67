/**
 * Opening a store from a URI: `sqlite:<path>[?options]`, `memory:`, `esdb://…` or
 * `esdb+discover://…`. The esdb adapter is loaded only when asked for, so the embedded store works
 * without the EventStoreDB client being loaded.
 */
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { InvalidArgumentError, StoreError, UnavailableError } from './errors.js';
import type { EventStore } from './port.js';
import { sqliteOpenFailure } from './sqlite-open-failure.js';
import type { Durability } from './sqlite-schema.js';
import { SqliteEventStore, type SqliteStoreOptions } from './sqlite-store.js';

export const FALLBACK_STORE_URI = 'sqlite:./.cadenza/cadenza.db';

/** `CADENZA_STORE` if set, else the embedded store in `./.cadenza/`. */
export function defaultStoreUri(): string {
  const fromEnvironment = process.env.CADENZA_STORE?.trim();
  return fromEnvironment ? fromEnvironment : FALLBACK_STORE_URI;
}

/**
 * What a served sqlite store (`cadenza store serve`) defaults to: a lone append made while the
 * writer thread is idle commits on the server's own thread (two thread hops fewer: one client at a
 * time waits for nothing else), every other batch goes to the writer thread, so appends from many
 * clients that arrive while a commit is being fsynced wait for the next one and share it. A lone
 * append that finds another process holding the write lock goes to the thread too, so the
 * server's event loop never waits for a lock (docs/store.md, "The writer thread";
 * docs/benchmarks.md, "EventStoreDB path"). The URI's own options win.
 */
export const SERVED_SQLITE_DEFAULTS: SqliteStoreOptions = { smallBatch: 2, bursts: 'thread' };

/** Open a store for `cadenza store serve`: a local one (sqlite: or memory:), with the served defaults. */
export function openServedStore(uri: string = defaultStoreUri()): Promise<EventStore> {
  return openStoreWith(uri, SERVED_SQLITE_DEFAULTS);
}

export function openStore(uri: string = defaultStoreUri()): Promise<EventStore> {
  return openStoreWith(uri, {});
}

/** Open the store a URI names; `sqliteDefaults` apply to a sqlite or memory store where the URI does not say otherwise. */
async function openStoreWith(uri: string, sqliteDefaults: SqliteStoreOptions): Promise<EventStore> {
  if (typeof uri !== 'string' || uri.trim() === '') throw new InvalidArgumentError('Store URI must be a non-empty string');
  if (uri.startsWith('esdb://') || uri.startsWith('esdb+discover://')) return openEsdb(uri);
  if (uri === 'memory:' || uri.startsWith('memory:?')) return SqliteEventStore.open(':memory:', { ...sqliteDefaults, ...parseSqliteOptions(uri, uri.slice('memory:'.length)) });
  if (uri.startsWith('sqlite:')) {
    const [path = '', query = ''] = splitQuery(uri.slice('sqlite:'.length));
    if (path === '') throw new InvalidArgumentError(`Store URI "${uri}" has no file path: use sqlite:<path>, e.g. ${FALLBACK_STORE_URI}`);
    const options = { ...sqliteDefaults, ...parseSqliteOptions(uri, query) };
    if (path === ':memory:') return SqliteEventStore.open(path, options);
    try {
      mkdirSync(dirname(resolve(path)), { recursive: true });
      return SqliteEventStore.open(path, options);
    } catch (error) {
      // The store's own errors say what is wrong; SQLite's and the file system's get the path and the reason.
      if (error instanceof StoreError) throw error;
      throw sqliteOpenFailure(path, error);
    }
  }
  const scheme = /^[a-z][a-z0-9+.-]*:/i.exec(uri)?.[0];
  throw new InvalidArgumentError(
    `${scheme ? `Unsupported store URI scheme "${scheme}"` : 'Store URI has no scheme'} in "${uri}": expected sqlite:<path>, memory:, esdb://… or esdb+discover://…`,
  );
}

function splitQuery(rest: string): [string, string] {
  const at = rest.indexOf('?');
  return at === -1 ? [rest, ''] : [rest.slice(0, at), rest.slice(at + 1)];
}

/** `?durability=normal&poll=100&busyTimeout=10000&pageSize=1000&writer=inline&smallBatch=0&bursts=thread` */
function parseSqliteOptions(uri: string, query: string): SqliteStoreOptions {
  const params = new URLSearchParams(query.startsWith('?') ? query.slice(1) : query);
  const options: { -readonly [K in keyof SqliteStoreOptions]: SqliteStoreOptions[K] } = {};
  for (const [key, value] of params) {
    if (key === 'durability') {
      if (value !== 'full' && value !== 'normal') throw new InvalidArgumentError(`Store URI "${uri}": durability must be full or normal, got "${value}"`);
      options.durability = value as Durability;
    } else if (key === 'poll' || key === 'busyTimeout' || key === 'pageSize') {
      const number = Number(value);
      if (!Number.isInteger(number) || number < 1) throw new InvalidArgumentError(`Store URI "${uri}": ${key} must be a positive integer, got "${value}"`);
      if (key === 'poll') options.livePollIntervalMs = number;
      else if (key === 'busyTimeout') options.busyTimeoutMs = number;
      else options.pageSize = number;
    } else if (key === 'smallBatch') {
      const number = Number(value);
      if (!Number.isInteger(number) || number < 0) throw new InvalidArgumentError(`Store URI "${uri}": smallBatch must be a non-negative integer, got "${value}"`);
      options.smallBatch = number;
    } else if (key === 'bursts') {
      if (value !== 'here' && value !== 'thread') throw new InvalidArgumentError(`Store URI "${uri}": bursts must be here or thread, got "${value}"`);
      options.bursts = value;
    } else if (key === 'writer') {
      if (value !== 'thread' && value !== 'inline') throw new InvalidArgumentError(`Store URI "${uri}": writer must be thread or inline, got "${value}"`);
      options.writer = value;
    } else {
      throw new InvalidArgumentError(`Store URI "${uri}": unknown option "${key}" (known: durability, poll, busyTimeout, pageSize, writer, smallBatch, bursts)`);
    }
  }
  return options;
}

interface EsdbModule {
  openEsdbStore?: (uri: string) => Promise<EventStore>;
}

function loadEsdbAdapter(): Promise<unknown> {
  // A variable specifier: the adapter is another module of this package, loaded only when asked for.
  const specifier = './esdb.js';
  return import(specifier);
}

/** Open an `esdb://` or `esdb+discover://` URI through the adapter's `openEsdbStore` (loader injectable for tests). */
export async function openEsdb(uri: string, load: () => Promise<unknown> = loadEsdbAdapter): Promise<EventStore> {
  let adapter: EsdbModule;
  try {
    adapter = (await load()) as EsdbModule;
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === 'ERR_MODULE_NOT_FOUND' && String((error as Error).message).includes('esdb')) {
      throw new UnavailableError(`Cannot open "${uri}": the EventStoreDB adapter (src/store/esdb.ts) is not available`, { cause: error });
    }
    throw error;
  }
  if (typeof adapter.openEsdbStore !== 'function') {
    throw new UnavailableError(`Cannot open "${uri}": src/store/esdb.ts does not export openEsdbStore(uri)`);
  }
  return adapter.openEsdbStore(uri);
}
