/** The persistent-subscription contract on the embedded store: in memory and in a file. */
import { SqliteEventStore } from '../../src/store/sqlite-store.js';
import { describePersistentSubscriptionContract } from './contract/persistent-contract.js';
import { tempStoreFile } from './temp-store.js';

describePersistentSubscriptionContract('sqlite memory:', async () => ({ store: SqliteEventStore.open(':memory:') }));

describePersistentSubscriptionContract('sqlite file', async () => {
  const { path, remove } = tempStoreFile();
  return { store: SqliteEventStore.open(path), cleanup: remove };
});
