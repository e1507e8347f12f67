/**
 * The worker's configuration: a `cadenza.config.mjs` (or `.js`, or `.ts` through tsx) whose default
 * export names the definitions and agents a worker hosts. Validated with zod at the boundary, so a
 * bad config fails at start-up with one line naming the field, before anything touches the store.
 */
import { dirname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { z } from 'zod';
import { agentDefinitionSchema, httpTransport, type AgentDefinition } from '../agents/index.js';
import { loadDefinitionFile } from '../engine/definition-file.js';
import { validateDefinition, type WorkflowDefinition, type WorkflowDefinitionInput } from '../workflow/index.js';

/** A config that cannot be used: `field` is its dotted path (e.g. `agents.1.capabilities`). */
export class ConfigError extends Error {
  constructor(readonly source: string, readonly field: string, reason: string) {
    super(`${source}: ${field ? `${field}: ` : ''}${reason}`);
    this.name = 'ConfigError';
  }
}

const logLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

const remoteAgentSchema = z.strictObject({
  id: agentDefinitionSchema.shape.id,
  capabilities: agentDefinitionSchema.shape.capabilities,
  url: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }),
  headers: z.record(z.string(), z.string()).optional(),
  maxConcurrency: agentDefinitionSchema.shape.maxConcurrency,
});

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

/** What a config file may export (see docs/embedding.md). */
export interface CadenzaConfigInput {
  readonly store?: string;
  readonly definitions?: readonly (string | WorkflowDefinitionInput)[];
  readonly agents?: readonly AgentDefinition[];
  readonly remoteAgents?: readonly { readonly id: string; readonly capabilities: readonly string[]; readonly url: string; readonly headers?: Readonly<Record<string, string>>; readonly maxConcurrency?: number }[];
  readonly maxInFlight?: number;
  readonly drainTimeoutMs?: number;
  readonly logLevel?: (typeof logLevels)[number];
}

export interface WorkerConfig {
  /** The file it came from, if any (for messages). */
  readonly source: string;
  readonly store?: string;
  readonly definitions: readonly WorkflowDefinition[];
  /** In-process agents and the remote ones, each with its transport. */
  readonly agents: readonly AgentDefinition[];
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
    // A TypeScript config goes through tsx (a dependency): the installed command runs compiled
    // JavaScript under plain node, where a `.ts` file would not load by itself.
    if (/\.[cm]?ts$/.test(path)) (await import('tsx/esm/api')).register();
    module = (await import(pathToFileURL(path).href)) as { default?: unknown };
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === 'ERR_MODULE_NOT_FOUND' && (error as Error).message.includes(path)) throw new ConfigError(file, '', 'no such file');
    throw new ConfigError(file, '', `cannot be loaded: ${firstLine(error)}`);
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
  const remote: AgentDefinition[] = config.remoteAgents.map((agent) => ({
    id: agent.id,
    capabilities: agent.capabilities,
    transport: httpTransport({ url: agent.url, ...(agent.headers ? { headers: agent.headers } : {}) }),
    ...(agent.maxConcurrency === undefined ? {} : { maxConcurrency: agent.maxConcurrency }),
  }));
  const agents = [...(config.agents as AgentDefinition[]), ...remote];
  const ids = new Set<string>();
  for (const [index, agent] of agents.entries()) {
    const field = index < config.agents.length ? `agents.${index}.id` : `remoteAgents.${index - config.agents.length}.id`;
    if (ids.has(agent.id)) throw new ConfigError(where.source, field, `agent "${agent.id}" is listed twice`);
    ids.add(agent.id);
  }
  return {
    source: where.source,
    ...(config.store === undefined ? {} : { store: config.store }),
    definitions,
    agents,
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

function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0] ?? '';
}
