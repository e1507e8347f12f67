/**
 * The engine's main scenarios on the EventStoreDB path: the runtime talks to the store through
 * @eventstore/db-client and our adapter, over real gRPC, to the embedded EventStoreDB-compatible
 * server. (With ESDB_CONNECTION_STRING set, the store contract also runs against a real server:
 * test/esdb/contract.test.ts.)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, it } from 'vitest';
import { openEsdbStore } from '../../src/store/esdb.js';
import { openStore } from '../../src/store/open.js';
import { startEmbedded, type Embedded } from '../esdb/support.js';
import { expectCrashRecovery } from './process-support.js';
import { expectTradeRolledBack, startTestEngine, tradingAgentsThatFailPostTrade, type TestEngine } from './support.js';

let embedded: Embedded | undefined;
let engine: TestEngine | undefined;
let dir = '';
afterEach(async () => {
  await engine?.stop();
  await engine?.store.close();
  await embedded?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
  engine = undefined;
  embedded = undefined;
  dir = '';
});

describe('the engine on the EventStoreDB path (real client, embedded server)', () => {
  it('rolls back a failed trade by compensation', async () => {
    embedded = await startEmbedded();
    const store = await openEsdbStore(embedded.connectionString);
    const { agents, ledger } = tradingAgentsThatFailPostTrade();
    engine = await startTestEngine({ agents, store });
    await expectTradeRolledBack(engine, ledger);
  });

  it('finishes a killed runtime process\'s workflows from a new process', async () => {
    dir = mkdtempSync(join(tmpdir(), 'cadenza-esdb-crash-'));
    // The server (and its durable SQLite file) lives in this process; the runtimes are children.
    embedded = await startEmbedded({}, await openStore(`sqlite:${join(dir, 'server.db')}`));
    await expectCrashRecovery(embedded.connectionString, dir);
    await embedded.store.close();
  }, 180_000);
});
