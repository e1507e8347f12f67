import { describe, expect, it, vi } from 'vitest';
import { UnavailableError } from '../../src/store/errors.js';
import { openEsdb } from '../../src/store/open.js';
import type { EventStore } from '../../src/store/port.js';

describe('opening esdb URIs', () => {
  it.each(['esdb://localhost:2113?tls=false', 'esdb+discover://admin:changeit@cluster.local:2113'])('hands %s to the adapter', async (uri) => {
    const adapterStore = {} as EventStore;
    const openEsdbStore = vi.fn(async (_uri: string) => adapterStore);
    await expect(openEsdb(uri, async () => ({ openEsdbStore }))).resolves.toBe(adapterStore);
    expect(openEsdbStore).toHaveBeenCalledWith(uri);
  });

  it('says clearly that the adapter is missing', async () => {
    const missing = Object.assign(new Error("Cannot find module '/work/main/src/store/esdb.js'"), { code: 'ERR_MODULE_NOT_FOUND' });
    const error = await openEsdb('esdb://localhost:2113', async () => Promise.reject(missing)).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(UnavailableError);
    expect((error as Error).message).toMatch(/EventStoreDB adapter \(src\/store\/esdb\.ts\) is not available/);
  });

  it('says clearly when the adapter does not export openEsdbStore', async () => {
    await expect(openEsdb('esdb://localhost:2113', async () => ({ somethingElse: true }))).rejects.toThrow(/does not export openEsdbStore/);
  });
});
