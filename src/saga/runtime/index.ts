/** The saga runtime: the process manager around the pure core. */
export { SagaRuntime } from './runtime.js';
export { WorkflowNotFoundError, type SagaRuntimeOptions, type StartWorkflowOptions, type RuntimeStats, type Transition, type TransitionsListener } from './options.js';
export { workflowStream, workflowIdOf, WORKFLOW_STREAM_PREFIX, InvalidWorkflowIdError, toEventData, fromRecorded } from '../stream/index.js';
