/** Helpers for the EventStoreDB tests: an embedded server over a memory store, a client for it, and raw requests. */
import { EventStoreDBClient } from '@eventstore/db-client';
import timestampPb from 'google-protobuf/google/protobuf/timestamp_pb.js';
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { startEsdbServer, type EsdbServer, type EsdbServerOptions } from '../../src/esdb-server/index.js';
import { sharedPb, streamsPb } from '../../src/esdb-server/proto.js';
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

/**
 * For a suite: an embedded server over a memory store and the real client on it, started before its
 * tests and stopped after them. Read `embedded` and `client` inside the tests, once they are set.
 */
export function embeddedWithClient(options: Omit<EsdbServerOptions, 'store'> = {}): { readonly embedded: Embedded; readonly client: EventStoreDBClient } {
  let embedded: Embedded | undefined;
  let client: EventStoreDBClient | undefined;
  beforeAll(async () => {
    embedded = await startEmbedded(options);
    client = clientFor(embedded);
  });
  afterAll(async () => {
    await client?.dispose();
    await embedded?.stop();
  });
  const started = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error('embeddedWithClient: read the server and client inside a test, once the suite has started them');
    return value;
  };
  return {
    get embedded() {
      return started(embedded);
    },
    get client() {
      return started(client);
    },
  };
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

/** What a hand-built BatchAppend request carries; see `batchAppendRequest`. */
export interface BatchAppendShape {
  /** Omitted: the request has no correlation id. */
  readonly correlationId?: string;
  /** Omitted: a continuation of an append already begun (no Options message). */
  readonly options?: { readonly stream: string; readonly expected: 'any' | bigint; readonly deadline?: Date };
  /** The one event's data, sent as application/json; default `{}`. */
  readonly data?: string;
  readonly final: boolean;
}

/**
 * One BatchAppendReq built with the client's generated classes, as the client would send it, for
 * the tests that need what the client never sends (a continuation, bad JSON, no correlation id).
 */
export function batchAppendRequest(shape: BatchAppendShape): InstanceType<typeof streamsPb.BatchAppendReq> {
  const request = new streamsPb.BatchAppendReq();
  if (shape.correlationId !== undefined) {
    const correlation = new sharedPb.UUID();
    correlation.setString(shape.correlationId);
    request.setCorrelationId(correlation);
  }
  if (shape.options) {
    const options = new streamsPb.BatchAppendReq.Options();
    const identifier = new sharedPb.StreamIdentifier();
    identifier.setStreamName(Buffer.from(shape.options.stream));
    options.setStreamIdentifier(identifier);
    if (shape.options.expected === 'any') options.setAny(new sharedPb.Empty());
    else options.setStreamPosition(shape.options.expected.toString());
    if (shape.options.deadline) options.setDeadline(timestampPb.Timestamp.fromDate(shape.options.deadline));
    request.setOptions(options);
  }
  const proposed = new streamsPb.BatchAppendReq.ProposedMessage();
  const id = new sharedPb.UUID();
  id.setString(randomUUID());
  proposed.setId(id);
  proposed.getMetadataMap().set('type', 'X').set('content-type', 'application/json');
  proposed.setData(Buffer.from(shape.data ?? '{}'));
  request.addProposedMessages(proposed);
  request.setIsFinal(shape.final);
  return request;
}
