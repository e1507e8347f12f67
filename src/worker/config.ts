/**
 * The worker's configuration: a `cadenza.config.mjs` (or `.js`, or `.ts` through tsx) whose default
 * export names the definitions and agents a worker hosts. Validated with zod at the boundary, so a
 * bad config fails at start-up with one line naming the field, before anything touches the store.
 */
import { dirname, resolve } from 'node:path';
import { z } from 'zod';
import { agentDefinitionSchema, httpTransport, type AgentDefinition } from '../agents/index.js';
import type { RemoteAgentOptions } from '../agents/a2a/index.js';
import { loadDefinitionFile } from '../engine/definition-file.js';
import { importUserModule, UserModuleError } from '../shared/user-module.js';
import { validateDefinition, type WorkflowDefinition, type WorkflowDefinitionInput } from '../workflow/index.js';

/** A config that cannot be used: `field` is its dotted path (e.g. `agents.1.capabilities`). */
export class ConfigError extends Error {
  constructor(readonly source: string, readonly field: string, reason: string) {
    super(`${source}: ${field ? `${field}: ` : ''}${reason}`);
    this.name = 'ConfigError';
  }
}

const logLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** Outbound credentials of a remote agent: a bearer token (inline or from an environment variable) and/or headers. */
const remoteCommon = {
  id: agentDefinitionSchema.shape.id,
  url: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }),
  headers: z.record(z.string(), z.string()).optional(),
  token: z.string().min(1).optional(),
  tokenEnv: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name').optional(),
  maxConcurrency: agentDefinitionSchema.shape.maxConcurrency,
  weight: agentDefinitionSchema.shape.weight,
};

/** Plain HTTP (the default protocol): capabilities are stated here. A2A: they come from the agent's card. */
const remoteAgentSchema = z.preprocess(
  (value) => (typeof value === 'object' && value !== null && !('protocol' in value) ? { ...value, protocol: 'http' } : value),
  z.discriminatedUnion('protocol', [
    z.strictObject({ ...remoteCommon, protocol: z.literal('http'), capabilities: agentDefinitionSchema.shape.capabilities }),
    z.strictObject({ ...remoteCommon, protocol: z.literal('a2a'), refreshMs: z.number().int().min(100).optional() }),
  ], { error: 'protocol must be "http" or "a2a"' }),
);

const configSchema = z.strictObject({
  /** Store URI; the command line's `--store` (or CADENZA_STORE) wins over it. */
  store: z.string().min(1).optional(),
  /** Definition objects (the builder's, or plain data) or paths of JSON definition files, relative to the config file. */
  definitions: z.array(z.union([z.string().min(1), z.record(z.string(), z.unknown())], { error: 'must be a definition object or the path of a JSON definition file' })).default([]),
  agents: z.array(agentDefinitionSchema).default([]),
  remoteAgents: z.array(remoteAgentSchema).default([]),
  maxInFlight: z.number().int().positive().optional(),
  /** On SIGTERM/SIGINT, how long agent calls in flight may take to finish. */
  drainTimeoutMs: z.number().int().min(0).max(3_600_000).default(10_000),
  logLevel: z.enum(logLevels).default('info'),
});

/** A remote agent named by URL (docs/agents.md, "Remote agents in a worker config"). */
export type RemoteAgentInput = {
  readonly id: string;
  readonly url: string;
  readonly headers?: Readonly<Record<string, string>>;
  /** Sent as `Authorization: Bearer <token>`; or name the environment variable holding it in `tokenEnv`. */
  readonly token?: string;
  readonly tokenEnv?: string;
  readonly maxConcurrency?: number;
  readonly weight?: number;
} & ({ readonly protocol?: 'http'; readonly capabilities: readonly string[] } | { readonly protocol: 'a2a'; readonly refreshMs?: number });

/** What a config file may export (see docs/embedding.md). */
export interface CadenzaConfigInput {
  readonly store?: string;
  readonly definitions?: readonly (string | WorkflowDefinitionInput)[];
  readonly agents?: readonly AgentDefinition[];
  readonly remoteAgents?: readonly RemoteAgentInput[];
  readonly maxInFlight?: number;
  readonly drainTimeoutMs?: number;
  readonly logLevel?: (typeof logLevels)[number];
}

export interface WorkerConfig {
  /** The file it came from, if any (for messages). */
  readonly source: string;
  readonly store?: string;
  readonly definitions: readonly WorkflowDefinition[];
  /** In-process agents and the remote plain-HTTP ones, each with its transport. */
  readonly agents: readonly AgentDefinition[];
  /** Remote A2A agents: discovered from their cards by the worker (capabilities, refresh). */
  readonly a2aAgents: readonly RemoteAgentOptions[];
  readonly maxInFlight?: number;
  readonly drainTimeoutMs: number;
  readonly logLevel: (typeof logLevels)[number];
}

/** Identity, typed: lets an editor check a config file written in TypeScript or with JSDoc. */
export function defineConfig(config: CadenzaConfigInput): CadenzaConfigInput {
  return config;
}

/** Imports a config module and validates its default export. */
export async function loadConfig(file: string): Promise<WorkerConfig> {
  const path = resolve(file);
  let module: { default?: unknown };
  try {
    module = await importUserModule(file);
  } catch (error) {
    if (error instanceof UserModuleError) throw new ConfigError(file, '', error.message.slice(file.length + 2));
    throw error;
  }
  if (module.default === undefined) throw new ConfigError(file, '', 'has no default export (export default { definitions, agents })');
  return parseConfig(module.default, { source: file, baseDir: dirname(path) });
}

/** Validates a config object; JSON definition paths are read relative to `baseDir`. */
export async function parseConfig(raw: unknown, where: { source: string; baseDir: string }): Promise<WorkerConfig> {
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ConfigError(where.source, issue?.path.join('.') ?? '', issue?.message ?? 'invalid');
  }
  const config = parsed.data;
  const definitions: WorkflowDefinition[] = [];
  for (const [index, entry] of config.definitions.entries()) {
    definitions.push(await definitionOf(entry, `definitions.${index}`, where));
  }
  const seen = new Map<string, string>();
  for (const [index, definition] of definitions.entries()) {
    const key = `${definition.name}@${definition.version}`;
    const earlier = seen.get(key);
    if (earlier) throw new ConfigError(where.source, `definitions.${index}`, `${key} is already defined by ${earlier}`);
    seen.set(key, `definitions.${index}`);
  }
  const remote: AgentDefinition[] = [];
  const a2aAgents: RemoteAgentOptions[] = [];
  for (const [index, agent] of config.remoteAgents.entries()) {
    const token = tokenOf(agent, `remoteAgents.${index}.tokenEnv`, where.source);
    const identity = { ...(agent.maxConcurrency === undefined ? {} : { maxConcurrency: agent.maxConcurrency }), ...(agent.weight === undefined ? {} : { weight: agent.weight }) };
    if (agent.protocol === 'a2a') {
      a2aAgents.push({ id: agent.id, url: agent.url, ...identity, ...(agent.headers ? { headers: agent.headers } : {}), ...(token === undefined ? {} : { token }), ...(agent.refreshMs === undefined ? {} : { refreshMs: agent.refreshMs }) });
      continue;
    }
    const headers = { ...agent.headers, ...(token === undefined ? {} : { authorization: `Bearer ${token}` }) };
    remote.push({ id: agent.id, capabilities: agent.capabilities, transport: httpTransport({ url: agent.url, ...(Object.keys(headers).length > 0 ? { headers } : {}) }), ...identity });
  }
  const agents = [...(config.agents as AgentDefinition[]), ...remote];
  const ids = new Set<string>();
  const named = [...config.agents.map((agent, index) => ({ id: agent.id, field: `agents.${index}.id` })), ...config.remoteAgents.map((agent, index) => ({ id: agent.id, field: `remoteAgents.${index}.id` }))];
  for (const { id, field } of named) {
    if (ids.has(id)) throw new ConfigError(where.source, field, `agent "${id}" is listed twice`);
    ids.add(id);
  }
  return {
    source: where.source,
    ...(config.store === undefined ? {} : { store: config.store }),
    definitions,
    agents,
    a2aAgents,
    ...(config.maxInFlight === undefined ? {} : { maxInFlight: config.maxInFlight }),
    drainTimeoutMs: config.drainTimeoutMs,
    logLevel: config.logLevel,
  };
}

async function definitionOf(entry: string | Record<string, unknown>, field: string, where: { source: string; baseDir: string }): Promise<WorkflowDefinition> {
  try {
    return typeof entry === 'string' ? await loadDefinitionFile(resolve(where.baseDir, entry)) : validateDefinition(entry);
  } catch (error) {
    throw new ConfigError(where.source, field, firstLine(error));
  }
}

/** The agent's bearer token: inline, or read from the environment variable the config names. */
function tokenOf(agent: { token?: string | undefined; tokenEnv?: string | undefined }, field: string, source: string): string | undefined {
  if (agent.tokenEnv === undefined) return agent.token;
  if (agent.token !== undefined) throw new ConfigError(source, field, 'give the token one way: token or tokenEnv, not both');
  const value = process.env[agent.tokenEnv]?.trim();
  if (!value) throw new ConfigError(source, field, `environment variable ${agent.tokenEnv} is not set`);
  return value;
}

function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0] ?? '';
}
