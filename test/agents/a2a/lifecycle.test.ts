/**
 * The A2A task lifecycle through the engine, agents in child processes over loopback HTTP: a long
 * task followed to its end across a runtime restart with the message sent once, a timeout and a
 * workflow cancel that send tasks/cancel, and input-required pausing the workflow until an operator
 * retries.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Engine } from '../../../src/engine/index.js';
import type { WorkflowEvent } from '../../../src/saga/index.js';
import { workflow } from '../../../src/workflow/index.js';
import { tempStoreFile } from '../../store/temp-store.js';
import { waitFor } from '../../support/wait-for.js';
import { type AgentProcess, engineWithRemoteAgents, logLines, scratch, startAgentProcess } from './support.js';

const long = workflow('long').version(1).step({ id: 's', action: 'work', capability: 'slow', timeoutMs: 60_000, output: { s: '$' } }).build();
// Long enough for the agent to name its task on a loaded machine: a call cut off before that has no task to cancel.
const stuck = workflow('stuck').version(1).onFailure('fail').step({ id: 't', action: 'work', capability: 'stuck', timeoutMs: 5_000, retry: { maxAttempts: 1 } }).build();
const held = workflow('held').version(1).step({ id: 't', action: 'work', capability: 'stuck', timeoutMs: 60_000 }).build();
const approval = workflow('approval').version(1).step({ id: 'q', action: 'ask', capability: 'approval', output: { q: '$' } }).build();

const { dir, cleanup } = scratch('cadenza-a2a-lifecycle-');
const log = join(dir, 'calls.jsonl');
const approvalFile = join(dir, 'approved');
const agents: AgentProcess[] = [];
let slow: AgentProcess;
let stuckAgent: AgentProcess;
let asker: AgentProcess;

beforeAll(async () => {
  [slow, stuckAgent, asker] = await Promise.all([
    startAgentProcess({ AGENT_NAME: 'slow-1', AGENT_SKILLS: 'slow', AGENT_LOG: log, AGENT_DELAY_MS: '3000' }),
    startAgentProcess({ AGENT_NAME: 'stuck-1', AGENT_SKILLS: 'stuck', AGENT_LOG: log, AGENT_DELAY_MS: '120000' }),
    startAgentProcess({ AGENT_NAME: 'ask-1', AGENT_SKILLS: 'approval', AGENT_LOG: log, AGENT_APPROVAL_FILE: approvalFile }),
  ]);
  agents.push(slow, stuckAgent, asker);
}, 120_000);

afterAll(async () => {
  await Promise.all(agents.map((agent) => agent.stop()));
  cleanup();
});

async function historyOf(engine: Engine, workflowId: string): Promise<WorkflowEvent[]> {
  const events: WorkflowEvent[] = [];
  for await (const entry of engine.history(workflowId)) events.push(entry.event);
  return events;
}

describe('A2A tasks through the engine', () => {
  it('follows a long task to its end across a runtime restart, sending the message once', async () => {
    const file = tempStoreFile();
    const store = `sqlite:${file.path}`;
    try {
      const first = await engineWithRemoteAgents({ store, definitions: [long] }, [{ id: 'slow-1', url: slow.url }]);
      const { workflowId } = await first.engine.start('long', {}, { workflowId: 'long-1' });
      let accepted: WorkflowEvent | undefined;
      await waitFor(async () => {
        accepted = (await historyOf(first.engine, workflowId)).find((event) => event.type === 'StepTaskAccepted');
        return accepted !== undefined;
      }, { what: 'the agent to accept the step as a task (StepTaskAccepted)', timeoutMs: 20_000 });
      await first.stop(); // a shutdown detaches from the task: no tasks/cancel

      const second = await engineWithRemoteAgents({ store, definitions: [long] }, [{ id: 'slow-1', url: slow.url }]);
      try {
        const done = await second.engine.wait(workflowId);
        expect(done.status).toBe('completed');
        expect(done.data).toMatchObject({ s: { by: 'slow-1' } });
        const history = await historyOf(second.engine, workflowId);
        const resumed = history.find((event) => event.type === 'StepResumed');
        expect(resumed?.data).toMatchObject({ stepId: 's', attempt: 1, agentId: 'slow-1' });
        expect(accepted?.data).toMatchObject({ stepId: 's', attempt: 1, agentId: 'slow-1' });
      } finally {
        await second.stop();
      }
      const lines = logLines(log).filter((line) => line.key === 'long-1:s');
      expect(lines.map((line) => line.event)).toEqual(['call', 'run']);
    } finally {
      await file.remove();
    }
  });

  it('sends tasks/cancel when a step times out, and the workflow ends as its policy says', async () => {
    const { engine, stop } = await engineWithRemoteAgents({ store: 'memory:', definitions: [stuck] }, [{ id: 'stuck-1', url: stuckAgent.url }]);
    try {
      const { workflowId } = await engine.start('stuck', {}, { workflowId: 'stuck-1' });
      const ended = await engine.wait(workflowId);
      expect(ended.status).toBe('failed');
      // The runtime's timer (StepTimedOut) or the invoker's deadline (StepFailed, code timeout), whichever fires first.
      const timedOut = (await historyOf(engine, workflowId)).filter((event) => event.type === 'StepTimedOut' || (event.type === 'StepFailed' && event.data.error.code === 'timeout'));
      expect(timedOut).toHaveLength(1);
      await waitFor(() => logLines(log).some((line) => line.key === 'stuck-1:t' && line.event === 'cancelled'), { what: 'the agent to see tasks/cancel and stop the handler', timeoutMs: 15_000 });
    } finally {
      await stop();
    }
  });

  it('sends tasks/cancel for a step in flight when its workflow is cancelled', async () => {
    const { engine, stop } = await engineWithRemoteAgents({ store: 'memory:', definitions: [held] }, [{ id: 'stuck-1', url: stuckAgent.url }]);
    try {
      const { workflowId } = await engine.start('held', {}, { workflowId: 'held-1' });
      await waitFor(() => logLines(log).some((line) => line.key === 'held-1:t' && line.event === 'run'), { what: 'the agent to start the step', timeoutMs: 15_000 });
      await engine.cancel(workflowId, 'no longer needed');
      expect((await engine.wait(workflowId)).status).toBe('cancelled');
      const failed = (await historyOf(engine, workflowId)).find((event) => event.type === 'StepFailed');
      expect(failed?.data).toMatchObject({ stepId: 't', error: { code: 'cancelled', retryable: false } });
      await waitFor(() => logLines(log).some((line) => line.key === 'held-1:t' && line.event === 'cancelled'), { what: 'the agent to see tasks/cancel and stop the handler', timeoutMs: 15_000 });
    } finally {
      await stop();
    }
  });

  it('pauses the workflow on input-required until an operator retries', async () => {
    const { engine, stop } = await engineWithRemoteAgents({ store: 'memory:', definitions: [approval] }, [{ id: 'ask-1', url: asker.url }]);
    try {
      const { workflowId } = await engine.start('approval', {}, { workflowId: 'approval-1' });
      const paused = await engine.wait(workflowId, { orPaused: true });
      expect(paused.status).toBe('paused');
      const failed = (await historyOf(engine, workflowId)).find((event) => event.type === 'StepFailed');
      expect(failed?.data).toMatchObject({ stepId: 'q', agentId: 'ask-1', error: { code: 'input-required', message: expect.stringContaining('an operator must approve') } });

      writeFileSync(approvalFile, 'yes');
      await engine.retry(workflowId);
      const done = await engine.wait(workflowId);
      expect(done.status).toBe('completed');
      expect(done.data).toMatchObject({ q: { approved: true, by: 'ask-1' } });
      // The input-required answer was not kept for the key: the retry ran the handler again.
      expect(logLines(log).filter((line) => line.key === 'approval-1:q' && line.event === 'run')).toHaveLength(2);
    } finally {
      await stop();
    }
  });
});
