import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { MaximumAppendSizeExceededError, StreamDeletedError, StreamNotFoundError, UnavailableError, WrongExpectedVersionError } from '../../src/store/errors.js';
import { openStore } from '../../src/store/open.js';
import { PAGE_SIZE } from '../../src/store/sqlite-schema.js';
import { SqliteEventStore } from '../../src/store/sqlite-store.js';
import { collect, event, takeUntil } from './contract/helpers.js';
import { describeEventStoreContract } from './contract/event-store-contract.js';
import { waitForSync } from '../support/wait-for.js';
import { committedCounter, movedClock, turn } from './producer-turns.js';
import { tempStoreFile } from './temp-store.js';

describeEventStoreContract(
  'sqlite: (file, durable)',
  async () => {
    const file = tempStoreFile();
    return { store: await openStore(`sqlite:${file.path}`), cleanup: file.remove };
  },
  { exactCheckpoints: true },
);

describeEventStoreContract(
  'sqlite: (file, durable, every write in the writer thread)',
  async () => {
    const file = tempStoreFile();
    return { store: SqliteEventStore.open(file.path, { smallBatch: 0 }), cleanup: file.remove };
  },
  { exactCheckpoints: true },
);

describe('sqlite: where a file store writes', () => {
  it('stores what the writer thread writes as TEXT, as the calling thread does', async () => {
    for (const options of [{ smallBatch: 0 }, { writer: 'inline' as const }]) {
      const file = tempStoreFile();
      const store = SqliteEventStore.open(file.path, options);
      await store.append('typed', [event('WithMetadata', { text: 'ünï 😀' }, { note: 'n' }), event('Plain', { n: 1 })]);
      await store.close();
      const db = new Database(file.path, { readonly: true });
      const kinds = db.prepare('SELECT typeof(data) AS data, typeof(metadata) AS metadata FROM events ORDER BY position').all();
      db.close();
      await file.remove();
      expect(kinds).toEqual([
        { data: 'text', metadata: 'text' },
        { data: 'text', metadata: 'null' },
      ]);
    }
  });

  it('sends a busy producer\'s full batches to the writer thread, and writes quick bursts on the calling thread', async () => {
    const file = tempStoreFile();
    const clock = movedClock();
    const store = SqliteEventStore.open(file.path, { busyProducerMicros: 100 });
    const reader = committedCounter(file.path);
    const committed = reader.committed;
    try {
      // A producer that works 400 µs per write (as the engine does, deciding): after a few turns its
      // batches of 64 go to the thread while the turn goes on. Seen from another connection: the
      // first full batch is committed before the producer's turn has ended.
      for (let round = 0; round < 3; round++) await turn(store, clock, round, 200, 400);
      let before = store.stats.transactions;
      await turn(store, clock, 3, 200, 400, (queued) => {
        if (queued === 128) waitForSync(() => committed(3) >= 64, { what: "the busy producer's first full batch to be committed while its turn goes on" });
      });
      expect(store.stats.transactions - before).toBeGreaterThanOrEqual(2);
      // A producer that only appends: after a few turns each turn is one commit on the calling
      // thread, at the end of the turn (nothing of it is committed while the turn goes on).
      for (let round = 4; round < 14; round++) await turn(store, clock, round, 200, 0);
      before = store.stats.transactions;
      await turn(store, clock, 14, 200, 0, (queued) => {
        if (queued === 200) expect(committed(14)).toBe(0);
      });
      expect(store.stats.transactions - before).toBe(1);
      // Whichever way they went, every stream holds its events in the order they were appended.
      const read = await collect(() => store.readStream('where-1'));
      const order = read.map((one) => (one.data as { round: number; index: number }).round * 1000 + (one.data as { index: number }).index);
      expect(order).toEqual([...order].sort((a, b) => a - b));
      expect(read).toHaveLength(15 * 50);
    } finally {
      vi.restoreAllMocks();
      reader.close();
      await store.close();
      await file.remove();
    }
  });

  it('commits the batches waiting for the writer thread together, each write with its own outcome', async () => {
    const file = tempStoreFile();
    // Every full batch of 64 is sent at once (any producer counts as busy), eight of them in one turn.
    const store = SqliteEventStore.open(file.path, { busyProducerMicros: 0 });
    // Another connection holds the write lock while the batches are sent: the thread waits on it
    // (busy timeout), so the batches pile up behind its first, whatever the machine's speed.
    const blocker = new Database(file.path);
    try {
      await store.append('joined-conflict', [event('First')]);
      const before = store.stats;
      blocker.exec('BEGIN IMMEDIATE');
      const writes = Array.from({ length: 8 * 64 }, (_, i) =>
        // Every 50th write expects a stream to be new that is not: refused, the rest unaffected.
        i % 50 === 0 ? store.append('joined-conflict', [event('Late', { i })], { expectedRevision: 'no_stream' }) : store.append(`joined-${i}`, [event('Joined', { i })]),
      );
      blocker.exec('COMMIT');
      const outcomes = await Promise.allSettled(writes);
      outcomes.forEach((outcome, i) => {
        if (i % 50 === 0) expect(outcome.status === 'rejected' && outcome.reason).toBeInstanceOf(WrongExpectedVersionError);
        else expect(outcome.status).toBe('fulfilled');
      });
      expect(store.stats.operations - before.operations).toBe(8 * 64);
      // At most the first batch went alone; the seven behind it shared one commit.
      expect(store.stats.transactions - before.transactions).toBeLessThanOrEqual(2);
      const read = await collect(() => store.readStream('joined-511'));
      expect(read.map((one) => one.data)).toEqual([{ i: 511 }]);
      expect(await collect(() => store.readStream('joined-conflict'))).toHaveLength(1);
    } finally {
      blocker.close();
      await store.close();
      await file.remove();
    }
  });

  it('fails every write of a commit the writer thread could not make, and writes again once it can', async () => {
    const file = tempStoreFile();
    // A short lock wait, every batch to the thread at once: eight batches meet another process's lock.
    const store = SqliteEventStore.open(file.path, { busyProducerMicros: 0, busyTimeoutMs: 100 });
    const other = new Database(file.path);
    try {
      await store.append('locked-first', [event('Before')]);
      other.exec('BEGIN IMMEDIATE');
      const outcomes = await Promise.allSettled(Array.from({ length: 8 * 64 }, (_, i) => store.append(`locked-${i}`, [event('Blocked', { i })])));
      expect(outcomes.every((outcome) => outcome.status === 'rejected' && outcome.reason instanceof UnavailableError)).toBe(true);
      expect(String((outcomes[0] as PromiseRejectedResult).reason)).toMatch(/could not commit/);
      other.exec('ROLLBACK');
      // Nothing of the failed commits was written; the same appends now go through.
      await expect(collect(() => store.readStream('locked-0'))).rejects.toBeInstanceOf(StreamNotFoundError);
      const again = await Promise.all(Array.from({ length: 8 * 64 }, (_, i) => store.append(`locked-${i}`, [event('Blocked', { i })])));
      expect(again.map((result) => result.nextExpectedRevision)).toEqual(Array.from({ length: 8 * 64 }, () => 0n));
    } finally {
      other.close();
      await store.close();
      await file.remove();
    }
  });
});

describeEventStoreContract(
  'sqlite: (file, durable, writes on the calling thread)',
  async () => {
    const file = tempStoreFile();
    return { store: await openStore(`sqlite:${file.path}?writer=inline`), cleanup: file.remove };
  },
  { exactCheckpoints: true },
);

describe.each([
  ['thread', { writer: 'thread', smallBatch: 0 }],
  ['thread, small batches here', { writer: 'thread' }],
  ['inline', { writer: 'inline' }],
] as const)('sqlite: group commit (writer %s)', (_name, options) => {
  let store: SqliteEventStore;
  let remove: () => Promise<void>;
  beforeEach(() => {
    const file = tempStoreFile();
    remove = file.remove;
    store = SqliteEventStore.open(file.path, options);
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
    // The refusal keeps its type and fields, also when it comes back from the writer thread.
    const refusal = (outcomes[1] as PromiseRejectedResult).reason as WrongExpectedVersionError;
    expect(refusal).toBeInstanceOf(WrongExpectedVersionError);
    expect({ stream: refusal.stream, expected: refusal.expected, actual: refusal.actual }).toEqual({ stream: 'shared-tx', expected: 0n, actual: 1n });
    expect(store.stats.transactions - before).toBe(1);
    const read = await collect(() => store.readStream('shared-tx'));
    expect(read.map((one) => one.type)).toEqual(['First', 'Ok']);
  });

  it('commits a burst larger than one batch, every stream in the order it was appended', async () => {
    const results = await Promise.all(Array.from({ length: 300 }, (_, index) => store.append(`burst-${index % 10}`, [event('Burst', { index })])));
    expect(results).toHaveLength(300);
    for (let stream = 0; stream < 10; stream++) {
      const read = await collect(() => store.readStream(`burst-${stream}`));
      expect(read.map((one) => (one.data as { index: number }).index)).toEqual(Array.from({ length: 30 }, (_, i) => stream + 10 * i));
    }
  });

  it('stores data and metadata with control characters, non-ASCII and lone surrogates exactly', async () => {
    const tricky = { text: 'a\u0001b\u0000c\u001f', emoji: 'ünï 😀', lone: '\ud800x', nested: [{ '\u0001key': '\u0001' }] };
    await Promise.all([
      store.append('tricky', [event('Tricky', tricky, { note: '\u0001\u0002' }), event('Plain', { n: 1 })], { expectedRevision: 'no_stream' }),
      store.append('tricky-2', [event('NoMetadata', { only: '\u0001' })]),
    ]);
    const [first, second] = await collect(() => store.readStream('tricky'));
    expect(first?.data).toEqual(tricky);
    expect(first?.metadata).toEqual({ note: '\u0001\u0002' });
    expect(second?.data).toEqual({ n: 1 });
    expect((await collect(() => store.readStream('tricky-2')))[0]?.data).toEqual({ only: '\u0001' });
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

  it('migrates a file of the first schema (text stream names in the indexes) to the second', async () => {
    const file = tempStoreFile();
    const older = new Database(file.path);
    older.exec(`
      CREATE TABLE events (position INTEGER PRIMARY KEY, stream TEXT NOT NULL, revision INTEGER NOT NULL, event_id TEXT NOT NULL,
        type TEXT NOT NULL, data TEXT NOT NULL, metadata TEXT, created INTEGER NOT NULL);
      CREATE UNIQUE INDEX events_by_stream ON events (stream, revision);
      CREATE INDEX events_by_id ON events (event_id);
      CREATE TABLE streams (name TEXT PRIMARY KEY, last_revision INTEGER NOT NULL DEFAULT -1, truncate_before INTEGER NOT NULL DEFAULT 0,
        tombstoned INTEGER NOT NULL DEFAULT 0, metadata_revision INTEGER NOT NULL DEFAULT -1, metadata TEXT) WITHOUT ROWID;
      INSERT INTO events VALUES
        (1, 'zeta', 0, '00000000-0000-4000-8000-000000000001', 'One', '{"n":1}', NULL, 1000),
        (2, 'alpha', 0, '00000000-0000-4000-8000-000000000002', 'One', '{"n":2}', '{"m":true}', 2000),
        (3, 'zeta', 1, '00000000-0000-4000-8000-000000000003', 'Two', '{"n":3}', NULL, 3000),
        (4, 'gone', 0, '00000000-0000-4000-8000-000000000004', 'One', '{}', NULL, 4000);
      INSERT INTO streams (name, last_revision, truncate_before, tombstoned, metadata_revision, metadata) VALUES
        ('zeta', 1, 1, 0, -1, NULL), ('alpha', 0, 0, 0, 0, '{"maxCount":5}'), ('gone', 0, 0, 1, -1, NULL), ('meta-only', -1, 0, 0, 0, '{}');
      PRAGMA user_version = 1;
    `);
    older.close();

    const store = SqliteEventStore.open(file.path);
    try {
      const all = await collect(() => store.readAll());
      expect(all.map((one) => [one.position.commit, one.stream, one.revision, one.id, one.type, one.data, one.metadata, one.created.getTime()])).toEqual([
        [1n, 'zeta', 0n, '00000000-0000-4000-8000-000000000001', 'One', { n: 1 }, {}, 1000],
        [2n, 'alpha', 0n, '00000000-0000-4000-8000-000000000002', 'One', { n: 2 }, { m: true }, 2000],
        [3n, 'zeta', 1n, '00000000-0000-4000-8000-000000000003', 'Two', { n: 3 }, {}, 3000],
        [4n, 'gone', 0n, '00000000-0000-4000-8000-000000000004', 'One', {}, {}, 4000],
      ]);
      // zeta was soft-deleted up to revision 1; alpha keeps its metadata; gone stays tombstoned.
      expect((await collect(() => store.readStream('zeta'))).map((one) => one.revision)).toEqual([1n]);
      expect(await store.getStreamMetadata('alpha')).toEqual({ maxCount: 5 });
      await expect(store.append('gone', [event('After')])).rejects.toBeInstanceOf(StreamDeletedError);
      expect((await store.append('zeta', [event('Three')], { expectedRevision: 1n })).nextExpectedRevision).toBe(2n);
      // A re-append of a stored event is still recognised, through the new event-id index.
      const replay = await store.append('alpha', [{ id: '00000000-0000-4000-8000-000000000002', type: 'One', data: { n: 2 } }]);
      expect(replay).toEqual({ nextExpectedRevision: 0n, position: { commit: 2n, prepare: 2n } });
      expect(await store.setStreamMetadata('meta-only', {}, { expectedRevision: 0n })).toMatchObject({ nextExpectedRevision: 1n });
    } finally {
      await store.close();
    }
    const db = new Database(file.path, { readonly: true });
    expect(db.pragma('user_version', { simple: true })).toBe(2);
    // An existing file keeps its page size (only new files get 8 KB pages).
    expect(db.pragma('page_size', { simple: true })).toBe(4096);
    expect(db.prepare('SELECT id, name, last_revision FROM streams ORDER BY id').raw().all()).toEqual([
      [1, 'zeta', 2],
      [2, 'alpha', 0],
      [3, 'gone', 0],
      [4, 'meta-only', -1],
    ]);
    expect(db.prepare("SELECT name FROM sqlite_master WHERE type IN ('table', 'index') AND name NOT LIKE 'sqlite_%' ORDER BY name").pluck().all()).toEqual([
      'events',
      'events_by_id',
      'events_by_stream',
      'streams',
    ]);
    db.close();
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
    expect(db.pragma('page_size', { simple: true })).toBe(PAGE_SIZE);
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
