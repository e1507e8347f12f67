/**
 * A live prefix-filtered subscription reads the headers of its own store's appends from memory
 * (src/store/sqlite-local-appends.ts) and everything else from the table. These tests hold both
 * paths to the same answer: every event, in order, with checkpoints where counting puts them.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { LocalAppends } from '../../src/store/sqlite-local-appends.js';
import { SqliteEventStore } from '../../src/store/sqlite-store.js';
import type { SubscriptionMessage } from '../../src/store/port.js';
import { waitFor } from '../support/wait-for.js';
import { event } from './contract/helpers.js';
import { tempStoreFile } from './temp-store.js';

describe('local appends', () => {
  const visited = (appends: LocalAppends, from: number, to: number) => {
    const seen: string[] = [];
    const complete = appends.visit(from, to, (position, stream, revision) => seen.push(`${position}:${stream}@${revision}`));
    return complete ? seen : false;
  };

  it('visits each position of a contiguous range with its stream and revision, and nothing when a position is missing', () => {
    const appends = new LocalAppends();
    appends.record('a', 2n, 3n, 3); // a@0..2 at positions 1..3
    appends.record('b', 0n, 4n, 1); // b@0 at 4
    appends.record('a', 4n, 6n, 2); // a@3..4 at 5..6
    appends.record('c', 0n, 9n, 1); // 7 and 8 were written by someone else
    expect(visited(appends, 2, 5)).toEqual(['2:a@1', '3:a@2', '4:b@0', '5:a@3']);
    expect(visited(appends, 1, 6)).toHaveLength(6);
    expect(visited(appends, 6, 9)).toBe(false);
    expect(visited(appends, 9, 9)).toEqual(['9:c@0']);
    expect(visited(appends, 0, 1)).toBe(false);
    expect(visited(appends, 9, 10)).toBe(false);
  });

  it('forgets the oldest appends once its ring is full', () => {
    const appends = new LocalAppends(4096);
    for (let i = 1; i <= 5000; i++) appends.record(`s${i}`, 0n, BigInt(i), 1);
    expect(appends.size).toBe(4096);
    expect(visited(appends, 904, 905)).toBe(false);
    expect(visited(appends, 905, 906)).toEqual(['905:s905@0', '906:s906@0']);
    expect(visited(appends, 4999, 5000)).toEqual(['4999:s4999@0', '5000:s5000@0']);
  });
});

describe('sqlite: a subscription on appends of this store and of another', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it('delivers interleaved appends of two stores on one file completely and in order, skipping what it is told to', async () => {
    const file = tempStoreFile();
    const mine = SqliteEventStore.open(file.path, { writer: 'inline' });
    const theirs = SqliteEventStore.open(file.path, { writer: 'inline' });
    cleanups.push(file.remove, () => mine.close(), () => theirs.close());
    // Skip every event of mine at an odd revision: the rest must arrive whole, theirs all of them.
    const subscription = mine.subscribeToAll({
      filter: { streamNamePrefix: ['wf-'] },
      checkpointInterval: 5,
      skip: (stream, revision) => stream.startsWith('wf-mine') && revision % 2n === 1n,
    });
    cleanups.push(() => subscription.unsubscribe());
    // Read while writing, so that most pages are one append: mine read from memory, theirs from the table.
    const messages: SubscriptionMessage[] = [];
    const reading = (async () => {
      for await (const message of subscription) messages.push(message);
    })();
    const delivered = () => messages.filter((m) => m.kind === 'event').length;
    const until = (count: number) => waitFor(() => delivered() >= count, { what: `the subscription to deliver ${count} events (it has ${delivered()})`, intervalMs: 2 });
    const expected: string[] = [];
    let revision = 0;
    for (let round = 0; round < 6; round++) {
      // Two of mine, then one of theirs, then one of mine the filter leaves out.
      await mine.append('wf-mine', [event('Mine', { round }), event('Mine', { round })]);
      expected.push(`wf-mine@${revision}`);
      revision += 2;
      await until(expected.length);
      await theirs.append(`wf-theirs-${round}`, [event('Theirs', { round })]);
      expected.push(`wf-theirs-${round}@0`);
      await until(expected.length);
      await mine.append('other', [event('Unfiltered')]);
    }
    await until(expected.length);
    await subscription.unsubscribe();
    await reading;
    const events = messages.flatMap((m: SubscriptionMessage) => (m.kind === 'event' ? [m.event] : []));
    expect(events.map((e) => `${e.stream}@${e.revision}`)).toEqual(expected);
    expect(events.filter((e) => e.stream === 'wf-mine').every((e) => e.type === 'Mine' && e.revision % 2n === 0n)).toBe(true);
    // Checkpoints every 5 positions considered (24 events were written, positions 1-24).
    const checkpoints = messages.flatMap((m) => (m.kind === 'checkpoint' ? [Number(m.position.commit)] : []));
    expect(checkpoints).toEqual([5, 10, 15, 20].slice(0, checkpoints.length));
    expect(checkpoints.length).toBeGreaterThanOrEqual(4);
  });
});
