/**
 * The embedded EventStoreDB-compatible gRPC server: any EventStore behind the Streams,
 * PersistentSubscriptions and ServerFeatures services of EventStoreDB's client protocol, so the official client (and our esdb
 * adapter) can talk to it.
 */
import { readFile } from 'node:fs/promises';
import { Server, ServerCredentials, type ServiceDefinition, type UntypedServiceImplementation } from '@grpc/grpc-js';
import type { EventStore } from '../store/port.js';
import { handleAppend } from './append.js';
import { createAuthorizer } from './auth.js';
import { handleBatchAppend } from './batch-append.js';
import { decodeBatchAppendRequest, encodeBatchAppendResponse } from './batch-append-wire.js';
import { DEFAULT_WRITE_TIMEOUT_MS } from './batch-deadline.js';
import { DEFAULT_MAX_APPEND_SIZE, type HandlerContext } from './context.js';
import { handleDelete, handleTombstone } from './delete.js';
import { handleGetSupportedMethods } from './features.js';
import { ServerFeaturesService, StreamsService } from './proto.js';
import { ProjectionsService, projectionsHandlers } from './projections.js';
import { handleRead, type ReadOutput } from './read.js';
import { startSystemProjections } from './system-projections.js';
import { persistentSubscriptionHandlers } from './persistent.js';
import { RecentWriters } from './writers.js';
import { PersistentSubscriptionsService } from './persistent-proto.js';
import { handlePersistentRead } from './persistent-read.js';

export interface EsdbServerOptions {
  /** The store served. The server does not close it: its owner does, after `close()`. */
  readonly store: EventStore;
  /** Default 127.0.0.1 (loopback only). */
  readonly host?: string;
  /** Default 2113, EventStoreDB's port; 0 picks a free one. */
  readonly port?: number;
  /** With both set, calls without matching basic credentials are refused with access-denied. */
  readonly username?: string;
  readonly password?: string;
  /** PEM files; without them the server speaks plaintext (`?tls=false` on the client side). */
  readonly tls?: { readonly certFile: string; readonly keyFile: string };
  /** Default 1 MiB, as EventStoreDB's MaxAppendSize. */
  readonly maxAppendSize?: number;
  /** Default 2000, as EventStoreDB's WriteTimeoutMs: caps every BatchAppend deadline. */
  readonly writeTimeoutMs?: number;
  /**
   * Write EventStoreDB's system projections (`$ce-`, `$et-`, `$streams`, `$category-` streams of
   * link events) behind the commit, as EventStoreDB's projections subsystem does. Default false:
   * every event then costs one to four more appends (docs/esdb-compatibility.md).
   */
  readonly systemProjections?: boolean;
  /** Default true. False serves (and advertises) no BatchAppend, so clients fall back to Append. */
  readonly batchAppend?: boolean;
}

export interface EsdbServer {
  /** host:port, as a connection string wants it. */
  readonly address: string;
  readonly port: number;
  /** Ends subscriptions with UNAVAILABLE (clients reconnect), then stops listening. */
  close(): Promise<void>;
}

/** The Streams service, its Read responses also accepting bytes already encoded (wire.ts). */
const streamsDefinition: ServiceDefinition = {
  ...StreamsService,
  read: {
    ...StreamsService.read,
    responseSerialize: (value: ReadOutput) => (Buffer.isBuffer(value) ? value : StreamsService.read.responseSerialize(value)),
  },
  // Read and written as bytes (batch-append-wire.ts): the hottest call on the served path.
  batchAppend: {
    ...StreamsService.batchAppend,
    requestDeserialize: decodeBatchAppendRequest,
    responseSerialize: encodeBatchAppendResponse,
  },
};

/** How long close() lets in-flight calls finish before cutting them. */
const SHUTDOWN_GRACE_MS = 1_000;

export async function startEsdbServer(options: EsdbServerOptions): Promise<EsdbServer> {
  const host = options.host ?? '127.0.0.1';
  const batchAppend = options.batchAppend ?? true;
  if ((options.username === undefined) !== (options.password === undefined)) {
    throw new Error('Give both a username and a password, or neither');
  }
  const activeCalls = new Set<() => void>();
  const context: HandlerContext = {
    store: options.store,
    maxAppendSize: options.maxAppendSize ?? DEFAULT_MAX_APPEND_SIZE,
    writeTimeoutMs: options.writeTimeoutMs ?? DEFAULT_WRITE_TIMEOUT_MS,
    authorize: createAuthorizer(options.username !== undefined && options.password !== undefined
      ? { username: options.username, password: options.password }
      : undefined),
    writers: new RecentWriters(),
    track: (stop) => {
      activeCalls.add(stop);
      return () => activeCalls.delete(stop);
    },
  };

  const server = new Server({ 'grpc.max_receive_message_length': 17 * 1024 * 1024 });
  const streams: UntypedServiceImplementation = {
    read: handleRead(context),
    append: handleAppend(context),
    delete: handleDelete(context),
    tombstone: handleTombstone(context),
  };
  if (batchAppend) streams['batchAppend'] = handleBatchAppend(context);
  server.addService(streamsDefinition, streams);
  server.addService(ProjectionsService, projectionsHandlers(context, options.systemProjections === true));
  server.addService(PersistentSubscriptionsService, { ...persistentSubscriptionHandlers(context), read: handlePersistentRead(context) });
  server.addService(ServerFeaturesService, { getSupportedMethods: handleGetSupportedMethods(batchAppend) });

  const credentials = options.tls
    ? ServerCredentials.createSsl(null, [{
      cert_chain: await readFile(options.tls.certFile),
      private_key: await readFile(options.tls.keyFile),
    }], false)
    : ServerCredentials.createInsecure();
  const hostForBinding = host.includes(':') ? `[${host}]` : host;
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(`${hostForBinding}:${options.port ?? 2113}`, credentials, (error, bound) => (error ? reject(error) : resolve(bound)));
  });

  const projections = options.systemProjections === true
    ? startSystemProjections(options.store, (error) => process.emitWarning(`System projections stopped: ${error instanceof Error ? error.message : String(error)}`))
    : undefined;
  let closing: Promise<void> | undefined;
  return {
    address: `${host}:${port}`,
    port,
    close: () => {
      // The follower stops first: the links it handed to the store are written before the owner closes it.
      closing ??= (projections?.stop() ?? Promise.resolve()).then(() => new Promise<void>((resolve) => {
        for (const stop of [...activeCalls]) stop();
        activeCalls.clear();
        const timer = setTimeout(() => {
          // Clients keep BatchAppend calls open: cut what is left, and do not wait on it.
          server.forceShutdown();
          resolve();
        }, SHUTDOWN_GRACE_MS);
        server.tryShutdown(() => {
          clearTimeout(timer);
          resolve();
        });
      }));
      return closing;
    },
  };
}
