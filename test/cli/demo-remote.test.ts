/**
 * `cadenza demo --remote`: the trading agents run as their own A2A processes on loopback ports; the
 * saga runs through them, compensations included; the command says where each listened and stops
 * them at the end.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/open.js';
import { cadenza } from './support.js';

const dir = mkdtempSync(join(tmpdir(), 'cadenza-demo-remote-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Summary {
  total: number;
  completed: number;
  compensated: number;
  workflowIds: Record<string, string[]>;
  remoteAgents: { id: string; url: string }[];
}

describe('cadenza demo --remote', () => {
  it('runs the saga through agents in their own processes, compensations included, and stops them', async () => {
    const store = `sqlite:${join(dir, 'store.db')}`;
    const result = await cadenza('--store', store, 'demo', '--remote', '-n', '6', '--seed', '5', '--latency', '0', '--rejection-rate', '0.5', '--json');
    expect(result.code, result.stderr).toBe(0);
    const summary = JSON.parse(result.stdout) as Summary;
    expect(summary.total).toBe(6);
    expect(summary.compensated).toBeGreaterThan(0);
    expect(summary.completed + summary.compensated).toBe(6);

    // One agent process per capability, each on a loopback port, each gone once the demo ended.
    expect(summary.remoteAgents.length).toBeGreaterThanOrEqual(3);
    for (const agent of summary.remoteAgents) {
      expect(agent.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+/);
      await expect(fetch(agent.url, { signal: AbortSignal.timeout(5_000) })).rejects.toThrow();
    }

    // The calls went to those agents: every scheduled step and compensation names one of them.
    const ids = new Set(summary.remoteAgents.map((agent) => agent.id));
    const opened = await openStore(store);
    try {
      const workflowId = summary.workflowIds.compensated![0]!;
      const called: string[] = [];
      for await (const event of opened.readStream(`workflow-${workflowId}`)) {
        if (event.type === 'StepScheduled' || event.type === 'CompensationScheduled') called.push((event.data as { agentId: string }).agentId);
      }
      expect(called.length).toBeGreaterThan(0);
      for (const agentId of called) expect(ids).toContain(agentId);
    } finally {
      await opened.close();
    }
  }, 180_000);
});
