/** The agents module: transports, registry, circuit breaker, bulkheads and the invoker. */
export * from './transport.js';
export * from './in-process-transport.js';
export * from './http-transport.js';
export * from './circuit-breaker.js';
export * from './bulkhead.js';
export * from './discovery.js';
export * from './events.js';
export * from './agent-record.js';
export * from './stats.js';
export * from './registry.js';
export * from './invoker.js';
export type { Logger } from './logging.js';
