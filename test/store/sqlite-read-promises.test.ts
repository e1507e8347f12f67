/**
 * docs/store.md, "Read a stream": "`fromRevision` inclusive", at the edges Stryker found untested on
 * src/store/sqlite-read.ts (docs/testing.md, "Surviving mutants reviewed"): reading backwards from
 * `'start'` is reading backwards from revision 0.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/open.js';
import type { EventStore } from '../../src/store/port.js';
import { collect, events } from './contract/helpers.js';

let store: EventStore;
beforeEach(async () => {
  store = await openStore('memory:');
});
afterEach(async () => {
  await store.close();
});

const revisions = async (...args: Parameters<EventStore['readStream']>) => (await collect(() => store.readStream(...args))).map((e) => e.revision);

describe('reading a stream backwards from the start', () => {
  it('gives the first event only, as backwards from revision 0 does', async () => {
    await store.append('s', events(3));
    expect(await revisions('s', { direction: 'backwards', fromRevision: 'start' })).toEqual([0n]);
    expect(await revisions('s', { direction: 'backwards', fromRevision: 0n })).toEqual([0n]);
    expect(await revisions('s', { direction: 'forwards', fromRevision: 'end' })).toEqual([]);
  });

  it('gives nothing when revision 0 is hidden by a truncation', async () => {
    await store.append('s', events(3));
    await store.setStreamMetadata('s', { truncateBefore: 1n });
    expect(await revisions('s', { direction: 'backwards', fromRevision: 'start' })).toEqual([]);
    expect(await revisions('s', { direction: 'backwards' })).toEqual([2n, 1n]);
  });
});
