/** Helpers for the EventStoreDB tests: an embedded server over a memory store, and a client for it. */
import { EventStoreDBClient } from '@eventstore/db-client';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
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

/** A throwaway self-signed certificate for localhost / 127.0.0.1 in `directory` (the client sends credentials only over TLS). */
export function selfSignedCertificate(directory: string): { certFile: string; keyFile: string } {
  const certFile = join(directory, 'cert.pem');
  const keyFile = join(directory, 'key.pem');
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=localhost',
    '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1', '-keyout', keyFile, '-out', certFile,
  ], { stdio: 'ignore' });
  return { certFile, keyFile };
}
