/** What `decide` reacts to, and what it is given besides the state. */
import type { Json } from '../workflow/json.js';
import type { WorkflowDefinition, WorkflowDefinitionInput } from '../workflow/definition.js';
import type { StepError } from './events.js';
import type { TimerRef } from './state.js';

export type WorkflowCommand =
  | {
      readonly type: 'start';
      readonly workflowId: string;
      readonly definition: WorkflowDefinition | WorkflowDefinitionInput;
      readonly input: Json;
      /** -100..100, higher first when admitted from the backlog. Default 0. */
      readonly priority?: number;
      /**
       * Whether the workflow runs at once (the runtime that decides has a slot for it) or is stored
       * queued, to be admitted later (the `admit` trigger). The runtime decides; the core is told. Default true.
       */
      readonly admit?: boolean;
    }
  | { readonly type: 'cancel'; readonly reason?: string }
  | { readonly type: 'compensate'; readonly reason?: string }
  /** Resume a paused workflow: its failed steps get a fresh round of attempts. */
  | { readonly type: 'retry' }
  /** Record a manual resolution of a workflow whose compensation failed, with the operator's note. */
  | { readonly type: 'resolve'; readonly note: string };

/** The result of one agent call, as the runtime received it. */
export type CallOutcome = { readonly ok: true; readonly output: Json } | { readonly ok: false; readonly error: StepError };

export type Trigger =
  | { readonly kind: 'command'; readonly command: WorkflowCommand }
  | { readonly kind: 'stepResult'; readonly stepId: string; readonly attempt: number; readonly outcome: CallOutcome }
  | { readonly kind: 'compensationResult'; readonly stepId: string; readonly attempt: number; readonly outcome: CallOutcome }
  /**
   * The agent of a step's attempt reported a long-running remote task for it (see StepTaskAccepted):
   * recorded so that a re-send after a restart follows the task. Stale or repeated reports decide nothing.
   */
  | { readonly kind: 'taskAccepted'; readonly stepId: string; readonly attempt: number; readonly agentId: string; readonly taskId: string }
  /** A durable timer fired (see `pendingTimers`). Early, stale or after-the-fact timers decide nothing. */
  | { readonly kind: 'timer'; readonly timer: TimerRef }
  /**
   * The runtime took the workflow over without the calls it awaits (after a restart): every call in
   * flight is re-sent under its key, with a new deadline. Decides nothing when none is in flight.
   */
  | { readonly kind: 'resume'; readonly reason: string }
  /**
   * Something the workflow may be waiting for happened elsewhere: an agent became available, or
   * another process appended a decision (a start, an operator command) that this runtime must carry
   * on. Schedules what waits for an agent and now has one; decides nothing otherwise.
   */
  | { readonly kind: 'wake' }
  /**
   * A runtime has a slot for a queued workflow: it is admitted and its ready steps scheduled. Decides
   * nothing for a workflow that is not queued (another runtime admitted it first, or it was cancelled).
   */
  | { readonly kind: 'admit' };

export interface DecisionContext {
  /** Epoch ms: the decision time (deadlines and not-before times are computed from it). */
  readonly now: number;
  /** Uniform in [0, 1): the jitter source. */
  readonly random: () => number;
  /** Agent ids with a capability, healthiest first. A retry goes to the first one other than the previous attempt's agent (see failover.ts). */
  readonly candidates: (capability: string) => readonly string[];
  /**
   * Who decides: the runtime instance's id, part of every decided event's id (see `eventId`), so
   * two runtimes deciding the same transition conflict instead of both "succeeding". Default ''.
   */
  readonly deciderId?: string;
}

/** A command that makes no sense in the workflow's current state. Nothing was decided. */
export class CommandRejectedError extends Error {
  constructor(
    readonly command: WorkflowCommand['type'],
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'CommandRejectedError';
  }
}
