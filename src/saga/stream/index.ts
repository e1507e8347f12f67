/**
 * The workflow stream: the one owner of `workflow-<id>`: its name, the encoding of events with their
 * metadata and causation, the definitions they refer to (`definition-<hex>`), loading (the fold),
 * and deciding and appending without a runtime. The
 * runtime, the operator tools (src/operations), the engine's queries and the read models' decoder
 * all go through here.
 */
export { WORKFLOW_STREAM_PREFIX, InvalidWorkflowIdError, assertWorkflowId, workflowStream, workflowIdOf } from './names.js';
export { toEventData, toEventDataList, fromRecorded, correlationIdOf, decodeWorkflowEvent, type EventContext, type WorkflowInput } from './codec.js';
export { DEFINITION_STREAM_PREFIX, DEFINITION_STORED, definitionStream, knownDefinition, saveDefinition, definitionsReady, loadDefinition } from './definitions.js';
export { replaySteps, replayWorkflow, parseReplayUntil, type ReplayStep, type ReplayResult, type ReplayUntil } from './load.js';
export { decideAndAppend, appendStart, appendNewWorkflow, type AppendDecisionOptions } from './append.js';
