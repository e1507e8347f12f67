/** The engine facade and the short ways to write agents for it. */
export { createEngine, UnknownDefinitionError, type Engine, type EngineOptions, type HistoryEntry, type ReplayOptions, type ReplayResult, type StopOptions } from './engine.js';
export { defineAgent, httpAgent, type DefineAgentOptions, type HttpAgentOptions } from './agents.js';
