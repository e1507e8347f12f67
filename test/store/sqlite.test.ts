import { openStore } from '../../src/store/open.js';
import { describeEventStoreContract } from './contract/event-store-contract.js';
import { tempStoreFile } from './temp-store.js';

describeEventStoreContract(
  'sqlite: (file, durable)',
  async () => {
    const file = tempStoreFile();
    return { store: await openStore(`sqlite:${file.path}`), cleanup: file.remove };
  },
  { exactCheckpoints: true },
);
