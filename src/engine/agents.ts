/**
 * Agents for the engine facade, written the short way: `defineAgent` turns a map of plain async
 * functions into an agent on the in-process transport, `httpAgent` names a remote agent by URL on
 * the HTTP transport. Both return the registry's `AgentDefinition`; nothing new travels below.
 */
import type { AgentDefinition } from '../agents/registry.js';
import { httpTransport, type HttpTransportOptions } from '../agents/http-transport.js';
import { inProcessTransport, type ActionHandler } from '../agents/in-process-transport.js';

interface AgentIdentity {
  readonly id: string;
  readonly capabilities: readonly string[];
  /** Preference among equally healthy, equally loaded agents (higher first). Default 1. */
  readonly weight?: number;
  /** Concurrent calls this agent accepts. Default: no limit. */
  readonly maxConcurrency?: number;
}

export interface DefineAgentOptions extends AgentIdentity {
  /**
   * One function per action (step actions and compensation actions alike). It returns the step's
   * output (plain JSON); throwing `AgentFailure` chooses the error code and whether a retry may help,
   * any other throw is a retryable failure.
   */
  readonly handlers: Readonly<Record<string, ActionHandler>>;
}

export type HttpAgentOptions = AgentIdentity & HttpTransportOptions;

export function defineAgent(options: DefineAgentOptions): AgentDefinition {
  const { handlers } = options;
  if (typeof handlers !== 'object' || handlers === null) throw new TypeError(`Agent "${options.id}": handlers must be an object of functions, one per action`);
  for (const [action, handler] of Object.entries(handlers)) {
    if (typeof handler !== 'function') throw new TypeError(`Agent "${options.id}": handler for action "${action}" is a ${typeof handler}, not a function`);
  }
  return { ...identity(options), transport: inProcessTransport(handlers) };
}

export function httpAgent(options: HttpAgentOptions): AgentDefinition {
  const { url, headers, fetch } = options;
  return {
    ...identity(options),
    transport: httpTransport({ url, ...(headers ? { headers } : {}), ...(fetch ? { fetch } : {}) }),
  };
}

function identity(options: AgentIdentity): AgentIdentity {
  return {
    id: options.id,
    capabilities: options.capabilities,
    ...(options.weight === undefined ? {} : { weight: options.weight }),
    ...(options.maxConcurrency === undefined ? {} : { maxConcurrency: options.maxConcurrency }),
  };
}
