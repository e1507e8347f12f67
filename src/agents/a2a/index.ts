/** Agents over the Agent2Agent protocol: the client transport with discovery, and the agent side. */
export { A2aTransport, type A2aTransportOptions } from './transport.js';
export { RemoteA2aAgent, AgentCardError, DEFAULT_CARD_REFRESH_MS, type RemoteAgentOptions } from './remote-agent.js';
export { serveAgent, type ServeAgentOptions, type ServedAgent } from './serve-agent.js';
export { CALL_METADATA, FAILURE_METADATA, RESULT_ARTIFACT } from './wire.js';
export { taskOutcome } from './outcome.js';
