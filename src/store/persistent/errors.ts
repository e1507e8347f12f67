/** Errors of persistent subscriptions, each naming the group (EventStoreDB's RpcExceptions carry the same). */
import { StoreError } from '../errors.js';

export class PersistentSubscriptionNotFoundError extends StoreError {
  constructor(readonly source: string, readonly group: string) {
    super('persistent-subscription-not-found', `Subscription group ${group} on stream ${source} does not exist.`);
  }
}

export class PersistentSubscriptionExistsError extends StoreError {
  constructor(readonly source: string, readonly group: string) {
    super('persistent-subscription-exists', `Subscription group ${group} on stream ${source} exists.`);
  }
}

/** Bad settings (or another reason the group cannot be made). */
export class PersistentSubscriptionFailedError extends StoreError {
  constructor(readonly source: string, readonly group: string, readonly reason: string) {
    super('persistent-subscription-failed', `Subscription group ${group} on stream ${source} failed: '${reason}'`);
  }
}

/** The consumer was dropped: the group was deleted, updated or restarted. */
export class PersistentSubscriptionDroppedError extends StoreError {
  constructor(readonly source: string, readonly group: string) {
    super('persistent-subscription-dropped', `Subscription group ${group} on stream ${source} was dropped.`);
  }
}

export class MaximumSubscribersReachedError extends StoreError {
  constructor(readonly source: string, readonly group: string) {
    super('maximum-subscribers-reached', `Maximum subscriptions reached for subscription group ${group} on stream ${source}.`);
  }
}
