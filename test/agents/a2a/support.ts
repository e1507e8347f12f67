/**
 * The A2A tests' tools: test agents as real child processes (`cadenza agent serve` on the fixture
 * module), their call logs, and an engine whose remote agents are discovered from their cards.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RemoteA2aAgent, type RemoteAgentOptions } from '../../../src/agents/a2a/index.js';
import { createEngine, type Engine, type EngineOptions } from '../../../src/engine/index.js';
import { waitFor } from '../../support/wait-for.js';

export const bin = fileURLToPath(new URL('../../../src/cli/bin.js', import.meta.url));
export const fixture = fileURLToPath(new URL('./fixtures/agent.ts', import.meta.url));

export interface AgentProcess {
  readonly url: string;
  readonly child: ChildProcess;
  stop(): Promise<void>;
}

/** Starts the fixture agent as `cadenza agent serve` and resolves with its URL once it prints its ready line. */
export async function startAgentProcess(env: Record<string, string>, extraArgs: readonly string[] = []): Promise<AgentProcess> {
  const child = spawn(process.execPath, [bin, '--json', 'agent', 'serve', fixture, ...extraArgs], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout?.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  await waitFor(() => out.includes('\n') || child.exitCode !== null, { what: `agent ${env.AGENT_NAME ?? ''} to listen`, timeoutMs: 60_000 });
  if (!out.includes('\n')) throw new Error(`agent ${env.AGENT_NAME ?? ''} exited (${String(child.exitCode)}): ${err}`);
  const ready = JSON.parse(out.split('\n')[0] as string) as { url: string };
  return {
    url: ready.url,
    child,
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

export interface LogLine {
  readonly agent: string;
  readonly event: 'call' | 'run' | 'cancelled';
  readonly key: string;
  readonly action?: string;
}

export function logLines(file: string): LogLine[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8').split('\n').filter((line) => line.length > 0).map((line) => JSON.parse(line) as LogLine);
}

/** A scratch folder for the test file, removed by `cleanup`. */
export function scratch(prefix: string): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** An engine whose remote A2A agents are discovered from their cards (and watched until `stop`). */
export async function engineWithRemoteAgents(options: EngineOptions, remotes: readonly RemoteAgentOptions[]): Promise<{ engine: Engine; agents: RemoteA2aAgent[]; stop: () => Promise<void> }> {
  const agents = remotes.map((remote) => new RemoteA2aAgent(remote));
  const discovered = [];
  for (const agent of agents) {
    const definition = await agent.discover();
    if (!definition) throw new Error(`the card of ${agent.id} could not be read`);
    discovered.push(definition);
  }
  const engine = await createEngine({ ...options, agents: [...(options.agents ?? []), ...discovered] });
  for (const agent of agents) await agent.watch(engine.registry);
  return {
    engine,
    agents,
    stop: async () => {
      for (const agent of agents) agent.stop();
      await engine.stop();
    },
  };
}
