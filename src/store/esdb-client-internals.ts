/**
 * The protected members of @eventstore/db-client 6.x that the adapter's own calls go through
 * (esdb-append.ts, esdb-subscribe.ts): the client's channel and its reconnection after a failed call
 * (`GRPCStreamCreator`), call credentials and deadlines (`callArguments`, `createDeadline`), and what
 * the server offers (`supports`). The client offers no public way to send requests it did not
 * encode; these let the adapter encode and decode the hot messages itself while everything about the
 * connection stays the client's. When one is missing (another client version), `internalsOf` says so
 * and the adapter uses the client's public methods.
 */
import type { EventStoreDBClient } from '@eventstore/db-client';
import type { CallOptions, Client, Metadata } from '@grpc/grpc-js';

export interface ClientInternals {
  GRPCStreamCreator<C extends Client, T>(
    client: new (...args: never[]) => C,
    debugName: string,
    creator: (client: C) => T,
    cache?: WeakMap<C, T | Promise<T>>,
  ): () => Promise<T>;
  callArguments(options: object, callOptions?: CallOptions): [Metadata, CallOptions];
  createDeadline(): Date;
  supports(method: unknown): Promise<boolean>;
}

const MEMBERS = ['GRPCStreamCreator', 'callArguments', 'createDeadline', 'supports'] as const;

export function internalsOf(client: EventStoreDBClient): ClientInternals | undefined {
  const candidate = client as unknown as Partial<Record<(typeof MEMBERS)[number], unknown>>;
  return MEMBERS.every((name) => typeof candidate[name] === 'function') ? (client as unknown as ClientInternals) : undefined;
}
