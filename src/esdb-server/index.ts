/** The embedded EventStoreDB-compatible server (`cadenza store serve`). */
export { startEsdbServer, type EsdbServer, type EsdbServerOptions } from './server.js';
export { DEFAULT_MAX_APPEND_SIZE } from './context.js';
export { COMPATIBLE_SERVER_VERSION } from './features.js';
