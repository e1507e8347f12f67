/**
 * The pure saga core: what the runtime (src/saga/runtime*) builds on. No I/O, no clock, no
 * randomness in here; the runtime supplies time, jitter and candidate agents and does every side
 * effect.
 *
 * The runtime's loop, per workflow and trigger:
 *   1. state = foldEvents(events of `workflow-<id>`)   (or a cached state + evolve of new events);
 *      `state.revision` is the stream revision of the last folded event (-1: no stream yet).
 *   2. events = decide(state, trigger, { now, random, candidates, deciderId })
 *        triggers: { kind: 'command', command: start | cancel | compensate | retry }
 *                  { kind: 'stepResult' | 'compensationResult', stepId, attempt, outcome }
 *                  { kind: 'timer', timer: { kind, stepId, attempt } }
 *                  { kind: 'resume', reason }   after a restart: re-send the calls in flight
 *                  { kind: 'wake' }             an agent appeared: schedule what waits for one
 *      `decide` throws CommandRejectedError (nothing decided) for commands that make no sense now;
 *      it returns [] for stale or duplicate results and timers, and for timers fired early.
 *      Agents: the first attempt goes to candidates[0]; a retry to the best candidate other than
 *      the previous attempt's agent (failover.ts).
 *   3. append `events` (ids are deterministic per decider: a retried append is the same fact; two
 *      runtimes deciding the same transition conflict) with expected
 *      revision `state.revision` (or no_stream when it is -1), encoded by `src/saga/stream`'s codec
 *      (`toEventDataList`: metadata `{ causationId }`, plus the correlation and schema version when
 *      not the defaults; a WorkflowStarted's definition stored once per hash, `saveDefinition`).
 *      On a conflict: reload, decide again.
 *   4. after the append: for each StepScheduled / CompensationScheduled (and each StepResumed /
 *      CompensationResumed), call `agentId` with `action`, `input`, `idempotencyKey` and `attempt`;
 *      arm a timer for each of `pendingTimers(newState)` (or, when `stepsChangedBy(events)` names
 *      the steps the events changed, replace just those steps' timers with
 *      `pendingTimersOf(newState, steps)`: the same timers, without looking at every step of a wide
 *      workflow). After a crash: `pendingTimers(state)`
 *      rebuilds the timer wheel and a `resume` trigger re-sends the calls in flight under their keys
 *      (the key names the operation, so an agent that honours it acts once).
 *   Reading stored events: `parseWorkflowEvent(type, data, metadata, id)` upcasts and validates.
 */
export { decide, decideTransition } from './decide.js';
export { evolve, foldEvents, stepsChangedBy } from './evolve.js';
export {
  initialState, isTerminal, pendingTimers, pendingTimersOf, inFlightCalls, stepState, stepStates, stepDefinition,
  stepIdempotencyKey, compensationIdempotencyKey, stepActionKeys, mayHaveTakenEffect, waitsForAgents, inFlightCall,
  type WorkflowState, type IdleWorkflowState, type ActiveWorkflowState, type WorkflowStatus, type TerminalStatus,
  type StepState, type StepStatus, type CompensationProgress, type CompensationStatus, type CompensationInfo,
  type CallProgress, type TimerKind, type TimerRef, type PendingTimer, type InFlightCall,
} from './state.js';
export {
  parseWorkflowEvent, eventId, eventDataSchemas, eventSchemaVersions, workflowEventTypes, isWorkflowEventType,
  stepErrorSchema, compensationCauseSchema, EventParseError, EVENT_ID_NAMESPACE,
  type WorkflowEvent, type WorkflowEventType, type WorkflowEventData, type WorkflowEventOf, type StepError, type CompensationCause,
} from './events.js';
export { CommandRejectedError, type Trigger, type WorkflowCommand, type CallOutcome, type DecisionContext } from './triggers.js';
export { backoffDelay } from './backoff.js';
export { OPERATOR_WAIT_CODES, awaitsOperator } from './steps.js';
