/**
 * `cadenza agent serve <module>`: runs an agent module (its default export is what `serveAgent`
 * takes, without the network options) as its own process, over A2A and plain HTTP at once. One
 * line on stdout when it listens; SIGINT/SIGTERM stop it. A bind beyond loopback needs a token.
 */
import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { serveAgent, type ServeAgentOptions } from '../../agents/a2a/index.js';
import { isLoopback } from '../../shared/loopback.js';
import { importUserModule, UserModuleError } from '../../shared/user-module.js';
import { CliError, ExitCode, type GlobalOptions } from '../context.js';
import { integer } from '../options.js';

/** Where the token may also come from, so it is not in the process list. */
export const AGENT_TOKEN_VARIABLE = 'CADENZA_AGENT_TOKEN';

interface AgentServeOptions {
  port: number;
  host: string;
  tokenFile?: string;
  tlsCert?: string;
  tlsKey?: string;
}

export function register(program: Command): void {
  const agent = program.command('agent').description('agents as their own processes');
  agent
    .command('serve')
    .description('serve an agent module over A2A (card at /.well-known/agent-card.json, JSON-RPC at /a2a) and plain HTTP (POST /call)')
    .argument('<module>', 'agent module (.mjs, .js or .ts) whose default export is { name, handlers, skills?, description?, onCall? }')
    .option('-p, --port <port>', 'port (0 = any free port)', integer(0, 65_535), 0)
    .option('--host <host>', 'interface to listen on (loopback by default)', '127.0.0.1')
    .option('--token-file <file>', `require this bearer token on every call (its first line); or ${AGENT_TOKEN_VARIABLE}. Required beyond loopback`)
    .option('--tls-cert <file>', 'PEM certificate: serve https (with --tls-key)')
    .option('--tls-key <file>', 'PEM private key (with --tls-cert)')
    .action(async (file: string, options: AgentServeOptions, command: Command) => {
      const globals = command.optsWithGlobals<GlobalOptions>();
      if ((options.tlsCert === undefined) !== (options.tlsKey === undefined)) throw new CliError('--tls-cert and --tls-key go together', ExitCode.Usage);
      const token = agentToken(options.tokenFile);
      if (token === undefined && !isLoopback(options.host)) {
        throw new CliError(`refusing to serve an agent on ${options.host} without a token: use --token-file or ${AGENT_TOKEN_VARIABLE} (or bind to 127.0.0.1)`, ExitCode.Usage);
      }
      const definition = await agentModule(file);
      const tls = options.tlsCert && options.tlsKey ? { cert: readPem(options.tlsCert, '--tls-cert'), key: readPem(options.tlsKey, '--tls-key') } : undefined;
      const stopRequested = new Promise<void>((resolve) => {
        process.once('SIGINT', () => resolve());
        process.once('SIGTERM', () => resolve());
      });
      let served;
      try {
        served = await serveAgent({ ...definition, host: options.host, port: options.port, ...(token === undefined ? {} : { token }), ...(tls ? { tls } : {}) });
      } catch (error) {
        throw new CliError(`agent "${definition.name}": ${(error as Error).message}`, ExitCode.Failure);
      }
      const ready = { ready: true, name: definition.name, url: served.url, card: `${served.url}/.well-known/agent-card.json`, a2a: served.a2aUrl, http: served.httpUrl };
      if (globals.json) process.stdout.write(`${JSON.stringify(ready)}\n`);
      else process.stdout.write(`agent ${definition.name} listening on ${served.url} (A2A card ${ready.card}, plain HTTP ${served.httpUrl})\n`);
      await stopRequested;
      await served.close();
    });
}

type AgentModule = Pick<ServeAgentOptions, 'name' | 'handlers' | 'skills' | 'description' | 'onCall'>;

/** The module's default export, checked: one line naming what is wrong. */
async function agentModule(file: string): Promise<AgentModule> {
  let module;
  try {
    module = await importUserModule(file);
  } catch (error) {
    if (error instanceof UserModuleError) throw new CliError(error.message, ExitCode.Usage);
    throw error;
  }
  const value = module.default as Partial<AgentModule> | undefined;
  if (typeof value !== 'object' || value === null) throw new CliError(`${file}: has no default export (export default { name, handlers })`, ExitCode.Usage);
  if (typeof value.name !== 'string' || value.name.trim() === '') throw new CliError(`${file}: name must be a non-empty string`, ExitCode.Usage);
  if (typeof value.handlers !== 'object' || value.handlers === null || Object.keys(value.handlers).length === 0) throw new CliError(`${file}: handlers must be an object of functions, one per action`, ExitCode.Usage);
  for (const [action, handler] of Object.entries(value.handlers)) {
    if (typeof handler !== 'function') throw new CliError(`${file}: handlers.${action} is a ${typeof handler}, not a function`, ExitCode.Usage);
  }
  if (value.skills !== undefined && typeof value.skills !== 'function' && !(Array.isArray(value.skills) && value.skills.every((s) => typeof s === 'string' && s.length > 0))) {
    throw new CliError(`${file}: skills must be a list of capability names (or a function returning one)`, ExitCode.Usage);
  }
  return value as AgentModule;
}

function agentToken(file: string | undefined): string | undefined {
  const token = file !== undefined ? firstLineOf(file, '--token-file') : process.env[AGENT_TOKEN_VARIABLE]?.trim() || undefined;
  if (token !== undefined && token.length < 16) throw new CliError('the agent token must be at least 16 characters', ExitCode.Usage);
  return token;
}

function firstLineOf(file: string, option: string): string {
  const line = readPem(file, option).split(/\r?\n/)[0]?.trim() ?? '';
  if (line === '') throw new CliError(`${option} ${file} is empty`, ExitCode.Usage);
  return line;
}

function readPem(file: string, option: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw new CliError(`Cannot read ${option} ${file}: ${(error as Error).message}`, ExitCode.Usage);
  }
}
