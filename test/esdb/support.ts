/** Helpers for the EventStoreDB tests: an embedded server over a memory store, and a client for it. */
import { EventStoreDBClient } from '@eventstore/db-client';
import { startEsdbServer, type EsdbServer, type EsdbServerOptions } from '../../src/esdb-server/index.js';
import { openStore } from '../../src/store/open.js';
import type { EventStore } from '../../src/store/port.js';

export interface Embedded {
  readonly store: EventStore;
  readonly server: EsdbServer;
  readonly connectionString: string;
  stop(): Promise<void>;
}

export async function startEmbedded(options: Omit<EsdbServerOptions, 'store'> = {}, store?: EventStore): Promise<Embedded> {
  const backing = store ?? (await openStore('memory:'));
  const server = await startEsdbServer({ port: 0, ...options, store: backing });
  return {
    store: backing,
    server,
    connectionString: `esdb://${server.address}?tls=false`,
    stop: async () => {
      await server.close();
      if (!store) await backing.close();
    },
  };
}

export function clientFor(embedded: Embedded): EventStoreDBClient {
  return EventStoreDBClient.connectionString(embedded.connectionString);
}
