/**
 * The write path's cache of stream heads: trusted only while no other connection has committed, and
 * dropped when a transaction rolls back. Two connections in one process stand in for two processes
 * here (PRAGMA data_version does not tell them apart); sqlite-processes.test.ts uses real ones.
 */
import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StreamDeletedError, WrongExpectedVersionError } from '../../src/store/errors.js';
import { batchRunner } from '../../src/store/sqlite-batch-runner.js';
import { StreamHeads } from '../../src/store/sqlite-heads.js';
import { prepareStoreStatements, type StreamRow } from '../../src/store/sqlite-rows.js';
import { openDatabase } from '../../src/store/sqlite-schema.js';
import { unpackOutcome, type WriteRequest } from '../../src/store/sqlite-write-requests.js';
import type { ExpectedRevision } from '../../src/store/port.js';
import { SqliteEventStore } from '../../src/store/sqlite-store.js';
import { collect, event } from './contract/helpers.js';
import { tempStoreFile } from './temp-store.js';

const row = (lastRevision: number): StreamRow => ({
  id: 1,
  last_revision: lastRevision,
  truncate_before: 0,
  tombstoned: 0,
  metadata_revision: -1,
  metadata: null,
});

describe('StreamHeads', () => {
  it('keeps heads while the data version stays the same and drops them all when it changes', () => {
    const heads = new StreamHeads();
    heads.begin(7);
    heads.set('a', row(3));
    heads.begin(7);
    expect(heads.get('a')).toEqual(row(3));
    heads.begin(8);
    expect(heads.get('a')).toBeUndefined();
  });

  it('forgets everything after a rollback, whatever the data version', () => {
    const heads = new StreamHeads();
    heads.begin(7);
    heads.set('a', row(3));
    heads.clear();
    heads.begin(7);
    expect(heads.get('a')).toBeUndefined();
  });

  it('drops the least recently written head beyond its capacity', () => {
    const heads = new StreamHeads(2);
    heads.begin(1);
    heads.set('a', row(0));
    heads.set('b', row(0));
    heads.set('a', row(1));
    heads.set('c', row(0));
    expect(heads.size).toBe(2);
    expect(heads.get('b')).toBeUndefined();
    expect(heads.get('a')).toEqual(row(1));
    expect(heads.get('c')).toEqual(row(0));
  });
});

describe('batchRunner', () => {
  const append = (stream: string, expected: ExpectedRevision = 'any'): WriteRequest => ({
    kind: 'append',
    stream,
    expected,
    now: 0,
    events: [{ id: randomUUID(), type: 'Ran', data: '{}', metadata: null }],
  });

  it('refuses a request alone, fails a whole batch whose transaction fails, and then reads heads again', () => {
    const db = openDatabase(':memory:', { durability: 'full', busyTimeoutMs: 100 });
    const statements = prepareStoreStatements(db);
    const run = batchRunner(db, statements);
    const first = run([append('a', 'no_stream'), append('a', 'no_stream'), append('b')]);
    expect(first.kind).toBe('committed');
    if (first.kind !== 'committed') return;
    expect([0, 1, 2].map((index) => unpackOutcome(first.outcomes, index).ok)).toEqual([true, false, true]);
    const refusal = unpackOutcome(first.outcomes, 1);
    expect(!refusal.ok && refusal.error).toBeInstanceOf(WrongExpectedVersionError);

    // A transaction that fails after a request wrote (here: a row the schema refuses) rolls back as
    // a whole, and the heads cached inside it are forgotten: stream "a" is still at revision 0.
    const broken: WriteRequest = { kind: 'append', stream: 'c', expected: 'any', now: 0, events: [{ id: randomUUID(), type: 'Broken', data: null as unknown as string, metadata: null }] };
    const failed = run([append('a', 0n), broken]);
    expect(failed.kind).toBe('failed');
    expect(statements.streamState.get('c')).toBeUndefined();
    const stale = run([append('a', 1n)]);
    expect(stale.kind === 'committed' && unpackOutcome(stale.outcomes, 0).ok).toBe(false);
    const current = run([append('a', 0n)]);
    expect(current.kind === 'committed' && unpackOutcome(current.outcomes, 0).ok).toBe(true);
    db.close();
  });
});

describe('sqlite: cached stream heads and another connection on the same file', () => {
  let path: string;
  let remove: () => Promise<void>;
  let ours: SqliteEventStore;
  let theirs: SqliteEventStore;
  beforeEach(() => {
    ({ path, remove } = tempStoreFile());
    ours = SqliteEventStore.open(path);
    theirs = SqliteEventStore.open(path);
  });
  afterEach(async () => {
    await ours.close();
    await theirs.close();
    await remove();
  });

  it('checks an expected revision against appends the other connection made after ours', async () => {
    expect((await ours.append('shared', [event('Ours')], { expectedRevision: 'no_stream' })).nextExpectedRevision).toBe(0n);
    expect((await theirs.append('shared', [event('Theirs'), event('Theirs')], { expectedRevision: 0n })).nextExpectedRevision).toBe(2n);

    const stale = ours.append('shared', [event('Ours')], { expectedRevision: 0n });
    await expect(stale).rejects.toBeInstanceOf(WrongExpectedVersionError);
    await expect(stale).rejects.toMatchObject({ expected: 0n, actual: 2n });
    expect((await ours.append('shared', [event('Ours')], { expectedRevision: 2n })).nextExpectedRevision).toBe(3n);
    expect((await ours.append('shared', [event('Ours')])).nextExpectedRevision).toBe(4n);
    const read = await collect(() => theirs.readStream('shared'));
    expect(read.map((one) => [one.revision, one.type])).toEqual([
      [0n, 'Ours'],
      [1n, 'Theirs'],
      [2n, 'Theirs'],
      [3n, 'Ours'],
      [4n, 'Ours'],
    ]);
  });

  it('sees a stream the other connection created, soft-deleted or tombstoned after our last append', async () => {
    await ours.append('created', [event('Ours')], { expectedRevision: 'no_stream' });
    await ours.append('other', [event('Ours')]);
    await theirs.append('created-by-them', [event('Theirs')]);
    await expect(ours.append('created-by-them', [event('Ours')], { expectedRevision: 'no_stream' })).rejects.toBeInstanceOf(WrongExpectedVersionError);

    await theirs.deleteStream('created');
    expect((await ours.append('created', [event('Ours')], { expectedRevision: 'no_stream' })).nextExpectedRevision).toBe(1n);

    await theirs.tombstoneStream('other');
    await expect(ours.append('other', [event('Ours')])).rejects.toBeInstanceOf(StreamDeletedError);
  });

  it('recognises a re-append of events the other connection wrote', async () => {
    await ours.append('replayed', [event('Ours')]);
    const theirEvents = [event('Theirs'), event('Theirs')];
    const original = await theirs.append('replayed', theirEvents, { expectedRevision: 0n });
    expect(await ours.append('replayed', theirEvents, { expectedRevision: 0n })).toEqual(original);
    expect(await collect(() => ours.readStream('replayed'))).toHaveLength(3);
  });

  it('keeps its own heads across its own commits, metadata and deletes', async () => {
    await ours.append('own', [event('One')]);
    await ours.setStreamMetadata('own', { maxCount: 5 });
    expect((await ours.append('own', [event('Two')], { expectedRevision: 0n })).nextExpectedRevision).toBe(1n);
    await ours.deleteStream('own', { expectedRevision: 1n });
    await expect(ours.append('own', [event('Three')], { expectedRevision: 1n })).resolves.toMatchObject({ nextExpectedRevision: 2n });
    await ours.tombstoneStream('own');
    await expect(ours.append('own', [event('Four')])).rejects.toBeInstanceOf(StreamDeletedError);
  });
});
