/**
 * A2A task states onto the engine's call outcomes (the table in docs/agents.md):
 *   completed                      -> success, output from the `result` artifact
 *   failed                         -> failure; retryable unless the agent said otherwise (status metadata)
 *   rejected                       -> failure, not retryable (the agent will not do it)
 *   canceled                       -> failure, retryable (someone stopped it; another attempt may run)
 *   input-required, auth-required  -> failure coded as such: the workflow pauses for an operator
 *   submitted, working             -> not yet: keep following the task
 */
import { TaskState, type Task } from '@a2a-js/sdk';
import type { Json } from '../../store/port.js';
import { type AgentCallResult, failure } from '../transport.js';
import { FAILURE_METADATA, outputOf, statusText } from './wire.js';

export function taskOutcome(task: Task, agentName: string): AgentCallResult | undefined {
  const state = task.status?.state ?? TaskState.TASK_STATE_UNSPECIFIED;
  const said = statusText(task);
  const reason = (fallback: string): string => `${agentName}: ${said || fallback} (task ${task.id})`;
  switch (state) {
    case TaskState.TASK_STATE_COMPLETED: {
      const result = outputOf(task);
      return result.found ? { ok: true, output: result.output } : { ok: true, output: null as Json };
    }
    case TaskState.TASK_STATE_FAILED: {
      const meta = (task.status?.message?.metadata ?? {}) as Record<string, unknown>;
      const code = typeof meta[FAILURE_METADATA.code] === 'string' ? (meta[FAILURE_METADATA.code] as string) : 'task-failed';
      const retryable = typeof meta[FAILURE_METADATA.retryable] === 'boolean' ? (meta[FAILURE_METADATA.retryable] as boolean) : true;
      return failure(reason('the task failed'), code, retryable);
    }
    case TaskState.TASK_STATE_REJECTED:
      return failure(reason('the agent rejected the task'), 'task-rejected', false);
    case TaskState.TASK_STATE_CANCELED:
      return failure(reason('the task was cancelled'), 'task-canceled', true);
    case TaskState.TASK_STATE_INPUT_REQUIRED:
      return failure(reason('the agent needs input'), 'input-required', false);
    case TaskState.TASK_STATE_AUTH_REQUIRED:
      return failure(reason('the agent needs credentials'), 'auth-required', false);
    case TaskState.TASK_STATE_SUBMITTED:
    case TaskState.TASK_STATE_WORKING:
      return undefined;
    default:
      return failure(`${agentName}: task ${task.id} is in an unknown state (${String(state)})`, 'invalid-result', true);
  }
}
