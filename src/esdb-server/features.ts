/**
 * ServerFeatures.GetSupportedMethods: the list the client consults before using an optional RPC
 * (appendToStream uses BatchAppend only when it is listed). Only what this server implements is
 * listed; the feature flags EventStoreDB adds (Read: "position", "events"; BatchAppend:
 * "deadline_duration") are left out because their behaviour is not implemented here.
 */
import type { sendUnaryData, ServerUnaryCall } from '@grpc/grpc-js';
import { serverFeaturesPb, type sharedPb } from './proto.js';

type Empty = InstanceType<typeof sharedPb.Empty>;
type SupportedMethods = InstanceType<typeof serverFeaturesPb.SupportedMethods>;

/** The EventStoreDB version whose client-facing protocol this server follows. */
export const COMPATIBLE_SERVER_VERSION = '24.10.0';

/**
 * The persistent-subscription methods, with the `stream` and `all` features through which the client
 * decides to use gRPC (not HTTP) for a stream and to allow groups on `$all` at all (ServerFeatures.cs).
 */
const persistentSubscriptionMethods: [string, string, ...string[]][] = [
  'create', 'update', 'delete', 'read', 'getinfo', 'replayparked', 'list',
].map((method) => ['event_store.client.persistent_subscriptions.persistentsubscriptions', method, 'stream', 'all'] as [string, string, ...string[]]);

export function supportedMethods(batchAppend: boolean): SupportedMethods {
  const methods: [string, string, ...string[]][] = [
    ['event_store.client.streams.streams', 'read'],
    ['event_store.client.streams.streams', 'append'],
    ['event_store.client.streams.streams', 'delete'],
    ['event_store.client.streams.streams', 'tombstone'],
    ...(batchAppend ? [['event_store.client.streams.streams', 'batchappend'] as [string, string]] : []),
    ...persistentSubscriptionMethods,
    ['event_store.client.persistent_subscriptions.persistentsubscriptions', 'restartsubsystem'],
    ['event_store.client.server_features.serverfeatures', 'getsupportedmethods'],
  ];
  const result = new serverFeaturesPb.SupportedMethods();
  result.setEventStoreServerVersion(COMPATIBLE_SERVER_VERSION);
  for (const [serviceName, methodName, ...features] of methods) {
    const method = new serverFeaturesPb.SupportedMethod();
    method.setServiceName(serviceName);
    method.setMethodName(methodName);
    method.setFeaturesList(features);
    result.addMethods(method);
  }
  return result;
}

export function handleGetSupportedMethods(batchAppend: boolean) {
  const methods = supportedMethods(batchAppend);
  return (_call: ServerUnaryCall<Empty, SupportedMethods>, callback: sendUnaryData<SupportedMethods>): void => {
    callback(null, methods);
  };
}
