/**
 * A workflow through remote A2A agents, each a `cadenza agent serve` child process over loopback
 * HTTP: three agents in one run, a failing agent whose retry fails over to another, and an agent
 * card whose skill disappears, after which the agent is no longer chosen for it.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { workflow } from '../../../src/workflow/index.js';
import { waitFor } from '../../support/wait-for.js';
import { type AgentProcess, engineWithRemoteAgents, logLines, scratch, startAgentProcess } from './support.js';

const pipeline = workflow('remote-pipeline')
  .version(1)
  .requireInput('n')
  .step({ id: 'a', action: 'work', capability: 'alpha', input: { n: 'input.n' }, output: { a: '$' }, retry: { maxAttempts: 3, initialDelayMs: 10 } })
  .step({ id: 'b', action: 'work', capability: 'beta', dependsOn: ['a'], input: { from: 'a.by' }, output: { b: '$' }, retry: { maxAttempts: 3, initialDelayMs: 10 } })
  .step({ id: 'c', action: 'work', capability: 'gamma', dependsOn: ['b'], input: { from: 'b.by' }, output: { c: '$' } })
  .build();

const { dir, cleanup } = scratch('cadenza-a2a-remote-');
const log = join(dir, 'calls.jsonl');
const gammaSkills = join(dir, 'gamma-skills.txt');
const agents: Record<string, AgentProcess> = {};

beforeAll(async () => {
  writeFileSync(gammaSkills, 'gamma,alpha');
  const started = await Promise.all([
    startAgentProcess({ AGENT_NAME: 'alpha-1', AGENT_SKILLS: 'alpha', AGENT_LOG: log }),
    startAgentProcess({ AGENT_NAME: 'beta-1', AGENT_SKILLS: 'beta', AGENT_LOG: log, AGENT_FAIL: '1' }),
    startAgentProcess({ AGENT_NAME: 'beta-2', AGENT_SKILLS: 'beta', AGENT_LOG: log }),
    startAgentProcess({ AGENT_NAME: 'gamma-1', AGENT_SKILLS_FILE: gammaSkills, AGENT_LOG: log }),
  ]);
  for (const [index, name] of ['alpha-1', 'beta-1', 'beta-2', 'gamma-1'].entries()) agents[name] = started[index] as AgentProcess;
}, 120_000);

afterAll(async () => {
  await Promise.all(Object.values(agents).map((agent) => agent.stop()));
  cleanup();
});

describe('a workflow on remote A2A agents', () => {
  it('runs its steps on three remote agents, a failing agent failing over to another, and stops choosing an agent whose card drops the skill', async () => {
    const url = (name: string): string => (agents[name] as AgentProcess).url;
    const { engine, stop } = await engineWithRemoteAgents({ store: 'memory:', definitions: [pipeline] }, [
      { id: 'alpha-1', url: url('alpha-1') },
      { id: 'beta-1', url: url('beta-1') },
      { id: 'beta-2', url: url('beta-2') },
      // Preferred for alpha while its card offers it; the card is read again every 200 ms.
      { id: 'gamma-1', url: url('gamma-1'), weight: 5, refreshMs: 200 },
    ]);
    try {
      expect(engine.registry.get('gamma-1')?.capabilities).toEqual(['alpha', 'gamma']);
      const first = await engine.start('remote-pipeline', { n: 1 }, { workflowId: 'remote-1' });
      const done = await engine.wait(first.workflowId);
      expect(done.status).toBe('completed');
      const history = [];
      for await (const entry of engine.history(first.workflowId)) history.push(entry.event);
      const succeeded = Object.fromEntries(history.flatMap((event) => (event.type === 'StepSucceeded' ? [[event.data.stepId, event.data.agentId]] : [])));
      expect(succeeded).toEqual({ a: 'gamma-1', b: 'beta-2', c: 'gamma-1' });
      // beta-1 failed the first attempt with its own (retryable) code; the retry went to beta-2.
      const failed = history.find((event) => event.type === 'StepFailed');
      expect(failed?.data).toMatchObject({ stepId: 'b', agentId: 'beta-1', error: { code: 'flaky', retryable: true } });
      expect(done.data).toMatchObject({ a: { by: 'gamma-1', input: { n: 1 } }, b: { by: 'beta-2', input: { from: 'gamma-1' } }, c: { by: 'gamma-1' } });
      // Three agents took part, each reached in its own process.
      expect(new Set(logLines(log).filter((l) => l.event === 'run' && l.key.startsWith('remote-1:')).map((l) => l.agent))).toEqual(new Set(['gamma-1', 'beta-1', 'beta-2']));

      // The alpha skill disappears from gamma-1's card: the next refresh takes the capability away.
      writeFileSync(gammaSkills, 'gamma');
      await waitFor(() => !engine.registry.candidates('alpha').includes('gamma-1'), { what: 'gamma-1 to lose the alpha capability', timeoutMs: 15_000 });
      expect(engine.registry.candidates('alpha')).toEqual(['alpha-1']);
      const second = await engine.start('remote-pipeline', { n: 2 }, { workflowId: 'remote-2' });
      expect((await engine.wait(second.workflowId)).status).toBe('completed');
      const ranA = logLines(log).filter((l) => l.event === 'run' && l.key === 'remote-2:a').map((l) => l.agent);
      expect(ranA).toEqual(['alpha-1']);
      // Its three steps succeeded on three different remote agents (beta-1 now ranks behind beta-2).
      const secondHistory = [];
      for await (const entry of engine.history(second.workflowId)) secondHistory.push(entry.event);
      expect(Object.fromEntries(secondHistory.flatMap((event) => (event.type === 'StepSucceeded' ? [[event.data.stepId, event.data.agentId]] : [])))).toEqual({ a: 'alpha-1', b: 'beta-2', c: 'gamma-1' });
    } finally {
      await stop();
    }
  });
});
