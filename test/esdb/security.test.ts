/**
 * Credentials and TLS on the embedded server. The client sends credentials only over TLS (it drops
 * them on insecure channels), so this suite serves a throwaway self-signed certificate.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { AccessDeniedError, EventStoreDBClient, jsonEvent } from '@eventstore/db-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AccessDeniedError as PortAccessDenied } from '../../src/store/errors.js';
import { openEsdbStore } from '../../src/store/esdb.js';
import { selfSignedCertificate, startEmbedded, type Embedded } from './support.js';

const event = () => jsonEvent({ type: 'Checked', data: { at: 1 } });

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(() => expect.fail('expected a rejection'), (error: unknown) => error);
}

describe('embedded EventStoreDB server: credentials over TLS', () => {
  let directory: string;
  let embedded: Embedded;
  let base: string;

  beforeAll(async () => {
    directory = mkdtempSync(join(tmpdir(), 'cadenza-esdb-tls-'));
    const { certFile, keyFile } = selfSignedCertificate(directory);
    embedded = await startEmbedded({ username: 'admin', password: 'changeit', tls: { certFile, keyFile } });
    base = `127.0.0.1:${embedded.server.port}?tls=true&tlsCAFile=${encodeURIComponent(certFile)}`;
  });
  afterAll(async () => {
    await embedded.stop();
    rmSync(directory, { recursive: true, force: true });
  });

  const withClient = async <T>(connectionString: string, use: (client: EventStoreDBClient) => Promise<T>) => {
    const client = EventStoreDBClient.connectionString(connectionString);
    try {
      return await use(client);
    } finally {
      await client.dispose();
    }
  };

  it('serves calls carrying the configured credentials, over TLS', async () => {
    const stream = `secure-${randomUUID()}`;
    await withClient(`esdb://admin:changeit@${base}`, async (client) => {
      expect((await client.appendToStream(stream, event())).nextExpectedRevision).toBe(0n);
      const read = [];
      for await (const resolved of client.readStream(stream)) read.push(resolved.event?.type);
      expect(read).toEqual(['Checked']);
    });
  });

  it('refuses calls without credentials or with wrong ones with access-denied, on every path', async () => {
    for (const connectionString of [`esdb://${base}`, `esdb://admin:wrong@${base}`, `esdb://nobody:changeit@${base}`]) {
      await withClient(connectionString, async (client) => {
        expect(await rejection(client.appendToStream('denied', event()))).toBeInstanceOf(AccessDeniedError);
        expect(await rejection(client.appendToStream('denied', event(), { credentials: { username: 'admin', password: 'nope' } }))).toBeInstanceOf(AccessDeniedError);
        expect(await rejection((async () => {
          for await (const _ of client.readStream('denied')) break;
        })())).toBeInstanceOf(AccessDeniedError);
        expect(await rejection(client.deleteStream('denied'))).toBeInstanceOf(AccessDeniedError);
      });
    }
    expect(await rejection((async () => {
      for await (const _ of embedded.store.readStream('denied')) break;
    })())).toMatchObject({ code: 'stream-not-found' });
  });

  it('refuses writing, deleting and tombstoning $all even with the configured credentials', async () => {
    await withClient(`esdb://admin:changeit@${base}`, async (client) => {
      expect(await rejection(client.appendToStream('$all', event()))).toBeInstanceOf(AccessDeniedError);
      expect(await rejection(client.appendToStream('$all', event(), { credentials: { username: 'admin', password: 'changeit' } }))).toBeInstanceOf(AccessDeniedError);
      expect(await rejection(client.deleteStream('$all'))).toBeInstanceOf(AccessDeniedError);
      expect(await rejection(client.tombstoneStream('$all'))).toBeInstanceOf(AccessDeniedError);
    });
  });

  it('gives the adapter AccessDeniedError for a subscription and an append without credentials', async () => {
    const store = await openEsdbStore(`esdb://${base}`);
    try {
      expect(await rejection(store.append('denied', [{ id: randomUUID(), type: 'A', data: {} }]))).toBeInstanceOf(PortAccessDenied);
      const subscription = store.subscribeToAll({ filter: { streamNamePrefix: ['denied'] } });
      expect(await rejection((async () => {
        for await (const _ of subscription) break;
      })())).toBeInstanceOf(PortAccessDenied);
    } finally {
      await store.close();
    }
  });
});
