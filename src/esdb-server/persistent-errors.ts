/**
 * Persistent-subscription failures as EventStoreDB raises them (RpcExceptions.cs): the `exception`
 * trailer the client switches on, with `stream-name`, `group-name` and `reason`.
 */
import { Metadata, status } from '@grpc/grpc-js';
import {
  MaximumSubscribersReachedError, PersistentSubscriptionDroppedError, PersistentSubscriptionExistsError,
  PersistentSubscriptionFailedError, PersistentSubscriptionNotFoundError,
} from '../store/persistent/errors.js';
import { RpcError, toRpcError } from './errors.js';

function trailers(exception: string, stream: string, group: string, extra: Record<string, string> = {}): Metadata {
  const metadata = new Metadata();
  metadata.set('exception', exception);
  metadata.set('stream-name', stream);
  metadata.set('group-name', group);
  for (const [key, value] of Object.entries(extra)) metadata.set(key, value);
  return metadata;
}

export const persistentRpcErrors = {
  doesNotExist: (stream: string, group: string) => new RpcError(status.NOT_FOUND,
    `Subscription group ${group} on stream ${stream} does not exist.`, trailers('persistent-subscription-does-not-exist', stream, group)),
  exists: (stream: string, group: string) => new RpcError(status.ALREADY_EXISTS,
    `Subscription group ${group} on stream ${stream} exists.`, trailers('persistent-subscription-exists', stream, group)),
  failed: (stream: string, group: string, reason: string) => new RpcError(status.INTERNAL,
    `Subscription group ${group} on stream ${stream} failed: '${reason}'`, trailers('persistent-subscription-failed', stream, group, { reason })),
  maximumSubscribersReached: (stream: string, group: string) => new RpcError(status.FAILED_PRECONDITION,
    `Maximum subscriptions reached for subscription group ${group} on stream ${stream}.`, trailers('maximum-subscribers-reached', stream, group)),
  dropped: (stream: string, group: string) => new RpcError(status.CANCELLED,
    `Subscription group ${group} on stream ${stream} was dropped.`, trailers('persistent-subscription-dropped', stream, group)),
};

export function toPersistentRpcError(error: unknown): RpcError {
  if (error instanceof PersistentSubscriptionNotFoundError) return persistentRpcErrors.doesNotExist(error.source, error.group);
  if (error instanceof PersistentSubscriptionExistsError) return persistentRpcErrors.exists(error.source, error.group);
  if (error instanceof PersistentSubscriptionFailedError) return persistentRpcErrors.failed(error.source, error.group, error.reason);
  if (error instanceof MaximumSubscribersReachedError) return persistentRpcErrors.maximumSubscribersReached(error.source, error.group);
  if (error instanceof PersistentSubscriptionDroppedError) return persistentRpcErrors.dropped(error.source, error.group);
  return toRpcError(error);
}
