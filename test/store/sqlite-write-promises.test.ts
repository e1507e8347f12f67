/**
 * Promises of docs/store.md about the embedded store's writes that the contract did not pin down,
 * found by Stryker on src/store/sqlite-writes.ts (docs/testing.md, "Surviving mutants reviewed"):
 * what a conflict reports as `actual`, where an idempotent re-append must be, what an empty append
 * writes and answers, and metadata returned exactly as set.
 */
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WrongExpectedVersionError } from '../../src/store/errors.js';
import { openStore } from '../../src/store/open.js';
import type { EventStore } from '../../src/store/port.js';
import { SqliteEventStore } from '../../src/store/sqlite-store.js';
import { event, events, headPosition } from './contract/helpers.js';
import { tempStoreFile } from './temp-store.js';

let store: EventStore;
beforeEach(async () => {
  store = await openStore('memory:');
});
afterEach(async () => {
  await store.close();
});

/** The conflict an operation throws, for its fields. */
async function conflictOf(operation: () => Promise<unknown>): Promise<WrongExpectedVersionError> {
  const error = await operation().then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(WrongExpectedVersionError);
  return error as WrongExpectedVersionError;
}

describe('"A mismatch throws WrongExpectedVersionError carrying expected and actual (the last revision, or \'no_stream\')"', () => {
  it('reports a stream that does not exist as no_stream, and an existing one by its last revision', async () => {
    expect(await conflictOf(() => store.append('missing', events(1), { expectedRevision: 3n }))).toMatchObject({ stream: 'missing', expected: 3n, actual: 'no_stream' });
    await store.append('s', events(3));
    expect(await conflictOf(() => store.append('s', events(1), { expectedRevision: 5n }))).toMatchObject({ stream: 's', expected: 5n, actual: 2n });
  });

  it('names the metadata stream ($$stream) for a metadata conflict, with the metadata\'s own revision as actual', async () => {
    expect(await conflictOf(() => store.setStreamMetadata('m', { maxCount: 1 }, { expectedRevision: 0n }))).toMatchObject({ stream: '$$m', expected: 0n, actual: 'no_stream' });
    await store.setStreamMetadata('m', { maxCount: 1 });
    await store.setStreamMetadata('m', { maxCount: 2 });
    expect(await conflictOf(() => store.setStreamMetadata('m', { maxCount: 3 }, { expectedRevision: 0n }))).toMatchObject({ stream: '$$m', expected: 0n, actual: 1n });
  });
});

describe('"With a revision or \'no_stream\' the place is given by the expectation"', () => {
  it('a re-append at a revision whose ids are stored, but elsewhere, is a conflict, not a replay', async () => {
    const stored = events(2);
    await store.append('s', stored);
    await store.append('s', events(2));
    // The ids are at revisions 0-1; expecting 2 would put them at 3-4, where they are not.
    expect(await conflictOf(() => store.append('s', stored, { expectedRevision: 2n }))).toMatchObject({ expected: 2n, actual: 3n });
  });

  it('a no_stream re-append of ids stored past the start of the stream is a conflict', async () => {
    const [first, second] = events(2);
    await store.append('s', [first!, second!], { expectedRevision: 'no_stream' });
    expect(await conflictOf(() => store.append('s', [second!], { expectedRevision: 'no_stream' }))).toMatchObject({ expected: 'no_stream', actual: 1n });
  });
});

describe('"An empty append checks the expectation and writes nothing (it does not create the stream)"', () => {
  it('leaves no trace in the file, and answers the last revision and the log\'s head position', async () => {
    const file = tempStoreFile();
    const onFile = SqliteEventStore.open(file.path, { writer: 'inline' });
    try {
      await onFile.append('other', events(2));
      const head = await headPosition(onFile);
      expect(await onFile.append('empty', [], { expectedRevision: 'no_stream' })).toEqual({ nextExpectedRevision: -1n, position: head });
      expect(await onFile.append('other', [], { expectedRevision: 1n })).toEqual({ nextExpectedRevision: 1n, position: head });
    } finally {
      await onFile.close();
    }
    const db = new Database(file.path, { readonly: true });
    try {
      expect(db.prepare('SELECT name FROM streams ORDER BY id').pluck().all()).toEqual(['other']);
    } finally {
      db.close();
      await file.remove();
    }
  });
});

describe('"getStreamMetadata returns it"', () => {
  it('returns exactly the settings given: no key for one left out', async () => {
    await store.setStreamMetadata('a', { maxCount: 5 });
    expect(await store.getStreamMetadata('a')).toStrictEqual({ maxCount: 5 });
    await store.setStreamMetadata('b', { maxAge: 60 });
    expect(await store.getStreamMetadata('b')).toStrictEqual({ maxAge: 60 });
    await store.setStreamMetadata('c', { custom: { owner: 'x' } });
    expect(await store.getStreamMetadata('c')).toStrictEqual({ custom: { owner: 'x' } });
  });

  it('"soft delete sets truncateBefore": also on a stream that never had metadata', async () => {
    await store.append('s', [event('One'), event('Two')]);
    await store.deleteStream('s');
    expect(await store.getStreamMetadata('s')).toStrictEqual({ truncateBefore: 2n });
  });
});
