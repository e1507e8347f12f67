/**
 * The embedded store's write rules (src/store/sqlite-writes.ts) where docs/store.md states them
 * beyond the contract: idempotent re-appends where the expectation puts them or where the first id
 * is found, partial matches as conflicts, and the results of deletes and metadata writes.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StreamDeletedError, WrongExpectedVersionError } from '../../src/store/errors.js';
import type { EventStore } from '../../src/store/port.js';
import { openStore } from '../../src/store/open.js';
import { collect, event, events, headPosition } from './contract/helpers.js';

let store: EventStore;
beforeEach(async () => {
  store = await openStore('memory:');
});
afterEach(async () => {
  await store.close();
});

const types = async (stream: string) => (await collect(() => store.readStream(stream))).map((one) => one.type);

describe('idempotent re-appends', () => {
  it('recognises a no_stream re-append after a soft delete, at the truncation point', async () => {
    await store.append('s', events(3));
    await store.deleteStream('s');
    const reborn = [event('Reborn'), event('Again')];
    const first = await store.append('s', reborn, { expectedRevision: 'no_stream' });
    expect(first.nextExpectedRevision).toBe(4n);
    expect(await store.append('s', reborn, { expectedRevision: 'no_stream' })).toEqual(first);
    expect(await types('s')).toEqual(['Reborn', 'Again']);
  });

  it('answers a re-append at a revision with the original revision and position, not the head', async () => {
    const batch = events(2);
    await store.append('s', [event('Zero')]);
    const first = await store.append('s', batch, { expectedRevision: 0n });
    await store.append('other', events(3));
    await store.append('s', events(2));
    expect(await store.append('s', batch, { expectedRevision: 0n })).toEqual(first);
    expect(await store.append('s', batch.slice(0, 1), { expectedRevision: 0n })).toEqual({
      nextExpectedRevision: 1n,
      position: (await collect(() => store.readStream('s', { fromRevision: 1n, maxCount: 1 })))[0]?.position,
    });
  });

  it('recognises a re-append of a stream\'s only event, and of its last event at a revision', async () => {
    const only = event('Only');
    const first = await store.append('one', [only]);
    expect(await store.append('one', [only], { expectedRevision: 'any' })).toEqual(first);
    expect(await store.append('one', [only], { expectedRevision: 'stream_exists' })).toEqual(first);
    const [a, b] = [event('A'), event('B')];
    await store.append('two', [a]);
    const second = await store.append('two', [b], { expectedRevision: 0n });
    expect(await store.append('two', [b], { expectedRevision: 0n })).toEqual(second);
    expect(await types('one')).toEqual(['Only']);
    expect(await types('two')).toEqual(['A', 'B']);
  });

  it('counts a soft-deleted stream written again as existing, from the head it cached', async () => {
    await store.append('s', events(2));
    await store.deleteStream('s');
    await store.append('s', [event('Reborn')]);
    expect((await store.append('s', [event('Next')], { expectedRevision: 'stream_exists' })).nextExpectedRevision).toBe(3n);
    await expect(store.append('s', [event('Late')], { expectedRevision: 'no_stream' })).rejects.toBeInstanceOf(WrongExpectedVersionError);
    expect(await types('s')).toEqual(['Reborn', 'Next']);
  });

  it('refuses, as a conflict, a re-append that runs past what was stored or differs after its first id', async () => {
    const [zero, one] = [event('Counted'), event('Counted')];
    await store.append('s', [zero, one], { expectedRevision: 'no_stream' });
    for (const [again, expectedRevision] of [
      [[zero, one, event('New')], 'no_stream'],
      [[zero, event('Other')], 'any'],
      [[one, event('Other')], 'stream_exists'],
      [[one, event('Other')], 0n],
    ] as const) {
      const error = await store.append('s', [...again], { expectedRevision }).catch((caught: unknown) => caught);
      expect(error, String(expectedRevision)).toBeInstanceOf(WrongExpectedVersionError);
      expect((error as WrongExpectedVersionError).actual).toBe(1n);
    }
    expect(await types('s')).toEqual(['Counted', 'Counted']);
  });

  it('appends ids that are new where the expectation allows, and refuses a re-append to a tombstoned stream', async () => {
    const stored = events(2);
    await store.append('s', stored);
    expect((await store.append('s', [event('Fresh')], { expectedRevision: 1n })).nextExpectedRevision).toBe(2n);
    await store.tombstoneStream('s');
    await expect(store.append('s', stored, { expectedRevision: 'no_stream' })).rejects.toBeInstanceOf(StreamDeletedError);
    await expect(store.append('s', [], { expectedRevision: 'any' })).rejects.toBeInstanceOf(StreamDeletedError);
  });
});

describe('deletes and metadata', () => {
  it('answers a delete and a metadata write with the log head, writing no event', async () => {
    await store.append('s', events(2));
    await store.append('other', events(1));
    const head = await headPosition(store);
    expect((await store.deleteStream('s')).position).toEqual(head);
    expect(await store.setStreamMetadata('other', { maxCount: 1 })).toEqual({ nextExpectedRevision: 0n, position: head });
    expect((await store.tombstoneStream('other')).position).toEqual(head);
    expect(await collect(() => store.readAll({ fromPosition: head }))).toEqual([]);
  });

  it('keeps the stream\'s events and numbering across a metadata write, and names the metadata stream in a conflict', async () => {
    await store.append('s', events(2));
    await store.setStreamMetadata('s', { maxAge: 3600 });
    expect((await store.append('s', [event('After')], { expectedRevision: 1n })).nextExpectedRevision).toBe(2n);
    const conflict = await store.setStreamMetadata('s', { maxCount: 1 }, { expectedRevision: 5n }).catch((caught: unknown) => caught);
    expect(conflict).toBeInstanceOf(WrongExpectedVersionError);
    expect(conflict).toMatchObject({ stream: '$$s', expected: 5n, actual: 0n });
    expect((await store.setStreamMetadata('s', { maxCount: 1 }, { expectedRevision: 'stream_exists' })).nextExpectedRevision).toBe(1n);
    expect(await store.getStreamMetadata('s')).toEqual({ maxCount: 1 });
  });

  it('returns no metadata for a stream that never had any, and only the fields that were set', async () => {
    await store.append('s', events(1));
    expect(await store.getStreamMetadata('s')).toBeUndefined();
    expect(await store.getStreamMetadata('never')).toBeUndefined();
    await store.setStreamMetadata('s', {});
    expect(await store.getStreamMetadata('s')).toEqual({});
    await store.setStreamMetadata('s', { maxAge: 1, maxCount: 1, truncateBefore: 0n, custom: {} });
    expect(await store.getStreamMetadata('s')).toEqual({ maxAge: 1, maxCount: 1, custom: {} });
  });
});
