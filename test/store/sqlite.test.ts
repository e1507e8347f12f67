import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MaximumAppendSizeExceededError, StreamNotFoundError } from '../../src/store/errors.js';
import { openStore } from '../../src/store/open.js';
import { SqliteEventStore } from '../../src/store/sqlite-store.js';
import { collect, event, takeUntil } from './contract/helpers.js';
import { describeEventStoreContract } from './contract/event-store-contract.js';
import { tempStoreFile } from './temp-store.js';

describeEventStoreContract(
  'sqlite: (file, durable)',
  async () => {
    const file = tempStoreFile();
    return { store: await openStore(`sqlite:${file.path}`), cleanup: file.remove };
  },
  { exactCheckpoints: true },
);

describe('sqlite: group commit', () => {
  let store: SqliteEventStore;
  let remove: () => Promise<void>;
  beforeEach(() => {
    const file = tempStoreFile();
    remove = file.remove;
    store = SqliteEventStore.open(file.path);
  });
  afterEach(async () => {
    await store.close();
    await remove();
  });

  it('commits concurrent appends from one process in one transaction', async () => {
    const before = store.stats;
    const results = await Promise.all(Array.from({ length: 50 }, (_, index) => store.append(`group-${index % 5}`, [event('Batched', { index })])));
    expect(results).toHaveLength(50);
    expect(store.stats.transactions - before.transactions).toBe(1);
    expect(store.stats.operations - before.operations).toBe(50);
  });

  it('fails only the refused append of a shared transaction', async () => {
    await store.append('shared-tx', [event('First')], { expectedRevision: 'no_stream' });
    const before = store.stats.transactions;
    const outcomes = await Promise.allSettled([
      store.append('shared-tx', [event('Ok')], { expectedRevision: 0n }),
      store.append('shared-tx', [event('Stale')], { expectedRevision: 0n }),
      store.append('other-tx', [event('Ok')], { expectedRevision: 'no_stream' }),
    ]);
    expect(outcomes.map((outcome) => outcome.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(store.stats.transactions - before).toBe(1);
    const read = await collect(() => store.readStream('shared-tx'));
    expect(read.map((one) => one.type)).toEqual(['First', 'Ok']);
  });

  it('keeps appends made just before close', async () => {
    const pending = store.append('closing', [event('Last')]);
    await store.close();
    await expect(pending).resolves.toMatchObject({ nextExpectedRevision: 0n });
  });
});

describe('sqlite: idempotency beyond EventStoreDB’s cache', () => {
  it('recognises an any re-append of old events and returns the original position', async () => {
    const store = await openStore('memory:');
    const original = [event('Old'), event('Older')];
    const first = await store.append('far', original);
    await store.append('far', Array.from({ length: 2000 }, () => event('Filler')));
    const again = await store.append('far', original);
    expect(again).toEqual(first);
    expect((await collect(() => store.readStream('far'))).length).toBe(2002);
    await store.close();
  });
});

describe('sqlite: filters that rarely match', () => {
  it('scans many empty pages to the one match, in reads and subscriptions', async () => {
    const store = SqliteEventStore.open(':memory:', { pageSize: 10 });
    await store.append('noise', Array.from({ length: 200 }, () => event('Noise')));
    await store.append('needle', [event('Found')]);
    const read = await collect(() => store.readAll({ filter: { streamNamePrefix: ['needle'] } }));
    expect(read.map((one) => one.type)).toEqual(['Found']);

    const subscription = store.subscribeToAll({ filter: { eventTypePrefix: ['Found'] }, checkpointInterval: 50 });
    const messages = await takeUntil(subscription, (seen) => seen.at(-1)?.kind === 'caughtUp');
    expect(messages.map((message) => (message.kind === 'checkpoint' ? `checkpoint ${message.position.commit}` : message.kind))).toEqual([
      'checkpoint 50',
      'checkpoint 100',
      'checkpoint 150',
      'checkpoint 200',
      'event',
      'caughtUp',
    ]);
    await store.close();
  });
});

describe('sqlite: limits and schema', () => {
  it('refuses an append larger than maxAppendSize and writes none of it', async () => {
    const store = SqliteEventStore.open(':memory:', { maxAppendSize: 1000 });
    await expect(store.append('big', [event('Small'), event('Big', { blob: 'x'.repeat(2000) })])).rejects.toBeInstanceOf(MaximumAppendSizeExceededError);
    await expect(collect(() => store.readStream('big'))).rejects.toBeInstanceOf(StreamNotFoundError);
    await store.close();
  });

  it('refuses a file written by a newer schema', async () => {
    const file = tempStoreFile();
    const newer = new Database(file.path);
    newer.pragma('user_version = 99');
    newer.close();
    expect(() => SqliteEventStore.open(file.path)).toThrow(/schema version 99, newer/);
    await file.remove();
  });

  it('refuses a file of the first schema (text stream names in the indexes) with a clear error', async () => {
    const file = tempStoreFile();
    const older = new Database(file.path);
    older.exec('CREATE TABLE events (position INTEGER PRIMARY KEY, stream TEXT NOT NULL, revision INTEGER NOT NULL)');
    older.pragma('user_version = 1');
    older.close();
    expect(() => SqliteEventStore.open(file.path)).toThrow(/schema version 1, written by an earlier development build.*does not migrate/);
    await file.remove();
  });

  it('indexes events by integer stream ids, numbered in order of creation', async () => {
    const file = tempStoreFile();
    const store = SqliteEventStore.open(file.path);
    await store.append('workflow-b', [event('One')]);
    await store.append('workflow-a', [event('One'), event('Two')]);
    await store.append('workflow-b', [event('Two')]);
    await store.close();
    const db = new Database(file.path, { readonly: true });
    expect(db.pragma('user_version', { simple: true })).toBe(2);
    expect(db.prepare('SELECT id, name, last_revision FROM streams ORDER BY id').all()).toEqual([
      { id: 1, name: 'workflow-b', last_revision: 1 },
      { id: 2, name: 'workflow-a', last_revision: 1 },
    ]);
    expect(db.prepare('SELECT stream_id, stream, revision FROM events ORDER BY position').raw().all()).toEqual([
      [1, 'workflow-b', 0],
      [2, 'workflow-a', 0],
      [2, 'workflow-a', 1],
      [1, 'workflow-b', 1],
    ]);
    db.close();
    await file.remove();
  });
});
