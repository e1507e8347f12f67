/**
 * The protobuf message classes and gRPC service definitions shipped inside @eventstore/db-client,
 * re-exported with their own type declarations. They are CommonJS modules whose exports the ESM
 * loader cannot name statically, hence the default imports.
 */
import streamsPbModule from '@eventstore/db-client/generated/streams_pb.js';
import sharedPbModule from '@eventstore/db-client/generated/shared_pb.js';
import statusPbModule from '@eventstore/db-client/generated/status_pb.js';
import serverFeaturesPbModule from '@eventstore/db-client/generated/serverfeatures_pb.js';
import streamsGrpcModule from '@eventstore/db-client/generated/streams_grpc_pb.js';
import serverFeaturesGrpcModule from '@eventstore/db-client/generated/serverfeatures_grpc_pb.js';
import anyPbModule from 'google-protobuf/google/protobuf/any_pb.js';
import emptyPbModule from 'google-protobuf/google/protobuf/empty_pb.js';

export const streamsPb = streamsPbModule;
export const sharedPb = sharedPbModule;
export const statusPb = statusPbModule;
export const serverFeaturesPb = serverFeaturesPbModule;
export const StreamsService = streamsGrpcModule.StreamsService;
export const ServerFeaturesService = serverFeaturesGrpcModule.ServerFeaturesService;
export const AnyPb = anyPbModule.Any;
export const GoogleEmpty = emptyPbModule.Empty;

export type {
  ReadReq, ReadResp, AppendReq, AppendResp, BatchAppendReq, BatchAppendResp, DeleteReq, DeleteResp,
  TombstoneReq, TombstoneResp,
} from '@eventstore/db-client/generated/streams_pb.js';
export type { StreamIdentifier, UUID } from '@eventstore/db-client/generated/shared_pb.js';
export type { IStreamsServer } from '@eventstore/db-client/generated/streams_grpc_pb.js';
export type { IServerFeaturesServer } from '@eventstore/db-client/generated/serverfeatures_grpc_pb.js';
