/**
 * Promises of docs/store.md about one group-commit transaction (src/store/sqlite-batch-runner.ts)
 * that other tests did not pin down, found by Stryker: each write of a batch is accounted on its own,
 * so a metadata write committed with an append is not remembered as an append ("the store remembers
 * its last 4,096 appends that inserted events", read back by stream-prefix subscriptions).
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { SubscriptionMessage } from '../../src/store/port.js';
import { SqliteEventStore } from '../../src/store/sqlite-store.js';
import { event, takeUntil } from './contract/helpers.js';
import { tempStoreFile } from './temp-store.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const summary = (messages: readonly SubscriptionMessage[]) =>
  messages.map((message) => (message.kind === 'event' ? `${message.event.stream}@${message.event.revision}:${message.event.type}` : message.kind));

describe('one transaction, several writes', () => {
  it('delivers to stream-prefix subscribers exactly the events appended, when a metadata write shared their commit', async () => {
    const file = tempStoreFile();
    const store = SqliteEventStore.open(file.path, { writer: 'inline' });
    cleanups.push(file.remove, () => store.close());
    // Requested in one turn: one batch, one transaction.
    const before = store.stats.transactions;
    await Promise.all([store.append('wf-a', [event('One'), event('Two')]), store.setStreamMetadata('wf-b', { maxCount: 3 })]);
    expect(store.stats.transactions).toBe(before + 1);
    await store.append('wf-c', [event('Three')]);

    const live = (prefix: string) => takeUntil(store.subscribeToAll({ filter: { streamNamePrefix: [prefix] } }), (messages) => messages.at(-1)?.kind === 'caughtUp');
    expect(summary(await live('wf-b'))).toEqual(['caughtUp']);
    expect(summary(await live('wf-a'))).toEqual(['wf-a@0:One', 'wf-a@1:Two', 'caughtUp']);
    expect(summary(await live('wf-'))).toEqual(['wf-a@0:One', 'wf-a@1:Two', 'wf-c@0:Three', 'caughtUp']);
  });

  it('leaves idempotent re-appends out of what it remembers: subscribers get each event once, where it was first written', async () => {
    const file = tempStoreFile();
    const store = SqliteEventStore.open(file.path, { writer: 'inline' });
    cleanups.push(file.remove, () => store.close());
    const first = [event('One'), event('Two')];
    await store.append('wf-a', first);
    await store.append('wf-b', [event('Three')]);
    // The same ids again: the original result, nothing written.
    await store.append('wf-a', first, { expectedRevision: 'no_stream' });
    await store.append('wf-a', [event('Four')]);
    const messages = await takeUntil(store.subscribeToAll({ filter: { streamNamePrefix: ['wf-'] } }), (all) => all.at(-1)?.kind === 'caughtUp');
    expect(summary(messages)).toEqual(['wf-a@0:One', 'wf-a@1:Two', 'wf-b@0:Three', 'wf-a@2:Four', 'caughtUp']);
  });
});
