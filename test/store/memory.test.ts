import { openStore } from '../../src/store/open.js';
import { describeEventStoreContract } from './contract/event-store-contract.js';

describeEventStoreContract('memory:', async () => ({ store: await openStore('memory:') }), { exactCheckpoints: true });
