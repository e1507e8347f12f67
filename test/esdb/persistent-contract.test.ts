/**
 * The persistent-subscription contract through the real @eventstore/db-client and our adapter, against
 * the embedded server over the embedded store: the adapter's mapping, the server's
 * PersistentSubscriptions service, and the groups behind it, end to end.
 */
import { openEsdbStore } from '../../src/store/esdb.js';
import { describePersistentSubscriptionContract } from '../store/contract/persistent-contract.js';
import { startEmbedded } from './support.js';

describePersistentSubscriptionContract('esdb adapter -> embedded server (memory:)', async () => {
  const embedded = await startEmbedded();
  const store = await openEsdbStore(embedded.connectionString);
  return { store, cleanup: () => embedded.stop() };
});
