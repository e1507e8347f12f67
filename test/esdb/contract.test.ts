/**
 * The store contract through the real @eventstore/db-client and our adapter: against the embedded
 * EventStoreDB-compatible server (always), and against a real EventStoreDB when
 * ESDB_CONNECTION_STRING is set (an explicit opt-in).
 */
import { openEsdbStore } from '../../src/store/esdb.js';
import { describeEventStoreContract } from '../store/contract/event-store-contract.js';
import { startEmbedded } from './support.js';

describeEventStoreContract('esdb adapter -> embedded server (memory:)', async () => {
  const embedded = await startEmbedded();
  const store = await openEsdbStore(embedded.connectionString);
  return { store, cleanup: () => embedded.stop() };
}, { exactCheckpoints: true });

// The same through Append: a server that does not advertise BatchAppend makes the client fall back.
describeEventStoreContract('esdb adapter -> embedded server without BatchAppend (memory:)', async () => {
  const embedded = await startEmbedded({ batchAppend: false });
  const store = await openEsdbStore(embedded.connectionString);
  return { store, cleanup: () => embedded.stop() };
}, { exactCheckpoints: true });

// Opt-in: ESDB_CONNECTION_STRING=esdb://host:2113?tls=false runs the contract against a real
// EventStoreDB too (docs/testing.md). Unset, this adds no test at all: nothing that always passes.
const realServer = process.env.ESDB_CONNECTION_STRING?.trim();
if (realServer) {
  // A shared, real server: other writers share its log, and it checkpoints on its own schedule.
  describeEventStoreContract(`esdb adapter -> real EventStoreDB (${realServer})`, async () => ({
    store: await openEsdbStore(realServer),
  }));
}
