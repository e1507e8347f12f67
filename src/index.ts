/**
 * cadenza's public surface: what `import { ... } from 'cadenza'` gives. Hand-picked, named one by
 * one (no `export *`), so that nothing internal is published by accident; test/package/surface.test.ts
 * fails when something here is removed or renamed. Everything else is internal and may change.
 */

// Definitions: the builder, validation, files and the types of the format.
export { workflow, WorkflowBuilder } from './workflow/builder.js';
export { validateDefinition, DefinitionError, type DefinitionIssue } from './workflow/validate.js';
export { definitionHash } from './workflow/hash.js';
export { parseDefinitionText, DefinitionFileError, type LocatedIssue } from './workflow/definition-text.js';
export { workflowDefinitionJsonSchema } from './workflow/json-schema.js';
export { loadDefinitionFile } from './engine/definition-file.js';
export type {
  WorkflowDefinition,
  WorkflowDefinitionInput,
  StepDefinition,
  StepDefinitionInput,
  CompensationDefinition,
  RetryPolicy,
  FailureStrategy,
  InputMapping,
  OutputMapping,
} from './workflow/definition.js';
export type { Json, JsonObject } from './workflow/json.js';

// The engine facade.
export {
  createEngine,
  UnknownDefinitionError,
  type Engine,
  type EngineOptions,
  type HistoryEntry,
  type ReplayOptions,
  type ReplayResult,
  type StopOptions,
} from './engine/engine.js';
export { WorkflowNotFoundError, InvalidWorkflowIdError, type StartWorkflowOptions, type Transition, type RuntimeStats } from './saga/runtime/index.js';
export type { SagaRuntime } from './saga/runtime/index.js';
export { CommandRejectedError } from './saga/triggers.js';

// Agents: the short way, the transports beneath it, and the agent's side of a call.
export { defineAgent, httpAgent, type DefineAgentOptions, type HttpAgentOptions } from './engine/agents.js';
export { inProcessTransport, type ActionHandler, type ActionContext } from './agents/in-process-transport.js';
export { httpTransport, type HttpTransportOptions } from './agents/http-transport.js';
export { AgentFailure, type AgentTransport, type AgentCall, type AgentCallResult, type AgentError, type CallCancellation, type CallKind } from './agents/transport.js';
export type { AgentDefinition, AgentRegistry } from './agents/registry.js';
export type { BulkheadLimits } from './agents/invoker.js';
// Remote agents over the Agent2Agent protocol: serve plain functions as an agent; reach one by URL.
export { serveAgent, type ServeAgentOptions, type ServedAgent } from './agents/a2a/serve-agent.js';
export { RemoteA2aAgent, AgentCardError, type RemoteAgentOptions } from './agents/a2a/remote-agent.js';

// The worker: a config's definitions and agents in one long-running engine that drains on demand.
export { Worker, defineConfig, loadConfig, parseConfig, ConfigError, type CadenzaConfigInput, type WorkerConfig, type WorkerOptions, type DrainReport } from './worker/index.js';

// Status, history and replay: the views the facade's queries return.
export { statusView, type WorkflowStatusView, type StepView } from './saga/status-view.js';
export type { WorkflowState, ActiveWorkflowState, WorkflowStatus, TerminalStatus, StepState, StepStatus } from './saga/state.js';
export { EventParseError, type WorkflowEvent, type WorkflowEventType } from './saga/events.js';

// The event store.
export { openStore, defaultStoreUri } from './store/open.js';
export type { EventStore, EventData, RecordedEvent, ExpectedRevision, Position } from './store/port.js';
export {
  StoreError,
  WrongExpectedVersionError,
  StreamNotFoundError,
  StreamDeletedError,
  InvalidArgumentError,
  AccessDeniedError,
  MaximumAppendSizeExceededError,
  UnavailableError,
  StoreClosedError,
  type StoreErrorCode,
} from './store/errors.js';
