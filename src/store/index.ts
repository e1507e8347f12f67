/** The event store's public surface: the port, its errors, opening a store, shared validation. */
export * from './port.js';
export * from './errors.js';
export * from './persistent/errors.js';
export { openStore, defaultStoreUri, FALLBACK_STORE_URI } from './open.js';
export { SqliteEventStore, type SqliteStoreOptions } from './sqlite-store.js';
export type { Durability } from './sqlite-schema.js';
export type { CommitStats } from './sqlite-writer.js';
export {
  MAX_STREAM_NAME_LENGTH,
  compileAllFilter,
  serializeEvents,
  toJsonText,
  validateCheckpointInterval,
  validateCount,
  validateDirection,
  validateExpectedRevision,
  validatePositionBound,
  validateRevisionBound,
  validateStreamMetadata,
  validateStreamName,
  type CompiledFilter,
  type SerializedEvent,
} from './validation.js';
