/**
 * The agent processes of `cadenza demo --remote`: one `cadenza agent serve` child per trading agent
 * (sagas/trading/remote-agent), each on a free loopback port, started together and stopped together.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { tradingAgentHandlers, type TradingAgentOptions } from '../../../sagas/trading/agents.js';

export interface RemoteAgentProcess {
  readonly id: string;
  readonly url: string;
}

export interface RemoteTradingAgents {
  readonly agents: readonly RemoteAgentProcess[];
  stop(): Promise<void>;
}

/** How long an agent process may take to print its ready line (tsx start-up on a loaded machine). */
const START_TIMEOUT_MS = 60_000;

export async function startRemoteTradingAgents(options: TradingAgentOptions): Promise<RemoteTradingAgents> {
  const ids = tradingAgentHandlers({ replicas: 1 }).map((agent) => agent.id);
  const children: ChildProcess[] = [];
  const stop = async (): Promise<void> => {
    await Promise.all(children.map((child) => new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    })));
  };
  try {
    const agents = await Promise.all(ids.map((id) => startOne(id, options, children)));
    return { agents, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

function startOne(id: string, options: TradingAgentOptions, children: ChildProcess[]): Promise<RemoteAgentProcess> {
  const { onCall: _onCall, ...serialisable } = options;
  const child = spawn(process.execPath, [binPath(), '--json', 'agent', 'serve', agentModulePath()], {
    env: { ...process.env, CADENZA_TRADING_AGENT: id, CADENZA_TRADING_OPTIONS: JSON.stringify(serialisable) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    const timer = setTimeout(() => reject(new Error(`agent ${id} did not start within ${START_TIMEOUT_MS / 1000} s`)), START_TIMEOUT_MS);
    child.stderr?.on('data', (chunk: Buffer) => (err += chunk.toString()));
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const line = out.split('\n')[0];
      if (out.includes('\n') && line) {
        clearTimeout(timer);
        try {
          resolve({ id, url: (JSON.parse(line) as { url: string }).url });
        } catch {
          reject(new Error(`agent ${id} printed something unexpected: ${line}`));
        }
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`agent ${id} exited (${String(code)}) before listening: ${err.trim().split('\n').at(-1) ?? ''}`));
    });
  });
}

/** The `cadenza` entry point: src/cli/bin.js, beside the sources in a checkout, at the package root when built. */
function binPath(): string {
  for (const candidate of ['../bin.js', '../../../../src/cli/bin.js']) {
    const path = fileURLToPath(new URL(candidate, import.meta.url));
    if (existsSync(path)) return path;
  }
  throw new Error('cannot find the cadenza command (src/cli/bin.js) to start the agent processes');
}

/** The trading agent module: the source in a checkout, the compiled module in the package. */
function agentModulePath(): string {
  for (const candidate of ['../../../sagas/trading/remote-agent.ts', '../../../sagas/trading/remote-agent.js']) {
    const path = fileURLToPath(new URL(candidate, import.meta.url));
    if (existsSync(path)) return path;
  }
  throw new Error('cannot find the trading agent module (sagas/trading/remote-agent)');
}
