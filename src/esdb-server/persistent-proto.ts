/** The PersistentSubscriptions service definition and messages shipped in @eventstore/db-client (see proto.ts). */
import persistentPbModule from '@eventstore/db-client/generated/persistent_pb.js';
import persistentGrpcModule from '@eventstore/db-client/generated/persistent_grpc_pb.js';

export const persistentPb = persistentPbModule;
export const PersistentSubscriptionsService = persistentGrpcModule.PersistentSubscriptionsService;

export type {
  CreateReq, CreateResp, UpdateReq, UpdateResp, DeleteReq, DeleteResp, GetInfoReq, GetInfoResp, ListReq, ListResp,
  ReplayParkedReq, ReplayParkedResp, ReadReq, ReadResp, SubscriptionInfo,
} from '@eventstore/db-client/generated/persistent_pb.js';
