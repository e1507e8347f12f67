/**
 * A remote A2A agent named by URL: its card says what it can do (one capability per skill), read
 * at start and again every `refreshMs`. Each read updates the agent's registration: a skill that
 * disappears takes the capability away (the agent is no longer a candidate for it), an agent with
 * no skill left is deregistered, and one that comes back is registered again. A card that cannot
 * be read leaves the registration as it was (the circuit breaker judges a dead agent by its calls).
 * Credentials (a bearer token or any headers) go on every request, the card's included.
 */
import { AGENT_CARD_PATH, type AgentCard } from '@a2a-js/sdk';
import { DefaultAgentCardResolver } from '@a2a-js/sdk/client';
import { type Logger, silentLogger } from '../logging.js';
import type { AgentDefinition, AgentRegistry } from '../registry.js';
import { A2aTransport } from './transport.js';

export interface RemoteAgentOptions {
  /** The agent's id in the registry. */
  readonly id: string;
  /** The agent's base URL: its card is at `<url>/.well-known/agent-card.json`. */
  readonly url: string;
  /** Sent as `Authorization: Bearer <token>`. */
  readonly token?: string;
  /** Other headers for every request (e.g. an API key). */
  readonly headers?: Readonly<Record<string, string>>;
  /** How often the card is read again. Default 30 s. */
  readonly refreshMs?: number;
  readonly weight?: number;
  readonly maxConcurrency?: number;
  /** How to follow tasks (see A2aTransportOptions.follow). */
  readonly follow?: 'card' | 'poll';
  /** See A2aTransportOptions.recordTaskAfterMs. */
  readonly recordTaskAfterMs?: number;
  /** The underlying fetch; default the global one. */
  readonly fetch?: typeof fetch;
}

export const DEFAULT_CARD_REFRESH_MS = 30_000;

/** The card could not be read or makes no sense: one line naming the agent and the URL. */
export class AgentCardError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AgentCardError';
  }
}

export class RemoteA2aAgent {
  readonly transport: A2aTransport;
  readonly #options: RemoteAgentOptions;
  readonly #fetch: typeof fetch;
  #card: AgentCard | undefined;
  #timer: NodeJS.Timeout | undefined;
  #registered: readonly string[] = [];

  constructor(options: RemoteAgentOptions) {
    this.#options = options;
    this.#fetch = withCredentials(options.fetch ?? fetch, options);
    this.transport = new A2aTransport({
      name: `agent "${options.id}" (${options.url})`,
      card: () => this.#card,
      fetch: this.#fetch,
      ...(options.follow ? { follow: options.follow } : {}),
      ...(options.recordTaskAfterMs === undefined ? {} : { recordTaskAfterMs: options.recordTaskAfterMs }),
    });
  }

  get id(): string {
    return this.#options.id;
  }

  get card(): AgentCard | undefined {
    return this.#card;
  }

  /** The capabilities on the card last read (its skill ids). */
  get capabilities(): string[] {
    return [...new Set((this.#card?.skills ?? []).map((skill) => skill.id).filter((id) => id.length > 0))].sort();
  }

  /** Reads the card (throws AgentCardError when it cannot). */
  async readCard(): Promise<AgentCard> {
    const where = new URL(AGENT_CARD_PATH, withSlash(this.#options.url)).href;
    let card: AgentCard;
    try {
      card = await new DefaultAgentCardResolver({ fetchImpl: this.#fetch }).resolve(withSlash(this.#options.url));
    } catch (error) {
      const cause = (error as { cause?: { code?: string } } | null)?.cause?.code;
      throw new AgentCardError(`agent "${this.#options.id}": cannot read its card at ${where}: ${error instanceof Error ? error.message : String(error)}${cause ? ` (${cause})` : ''}`);
    }
    if (!card.supportedInterfaces.some((i) => i.protocolBinding === 'JSONRPC')) {
      throw new AgentCardError(`agent "${this.#options.id}": the card at ${where} offers no JSON-RPC interface`);
    }
    this.#card = card;
    return card;
  }

  /** The registry's definition for the card last read (undefined while it has no skill). */
  definition(): AgentDefinition | undefined {
    const capabilities = this.capabilities;
    if (capabilities.length === 0) return undefined;
    const { weight, maxConcurrency } = this.#options;
    return { id: this.#options.id, capabilities, transport: this.transport, ...(weight === undefined ? {} : { weight }), ...(maxConcurrency === undefined ? {} : { maxConcurrency }) };
  }

  /**
   * Reads the card once, before the agent is registered anywhere: its definition (undefined when
   * the card cannot be read or has no skill). A runtime that re-sends calls at start-up needs the
   * transports of its remote agents before it starts, so hosts discover first, then start, then watch.
   */
  async discover(logger: Logger = silentLogger()): Promise<AgentDefinition | undefined> {
    try {
      await this.readCard();
    } catch (error) {
      logger.warn({ agentId: this.id, err: (error as Error).message }, 'agent card not read; the agent is not registered yet');
      return undefined;
    }
    return this.definition();
  }

  /** Reads the card and brings the registration in line with it. False when the card could not be read. */
  async refresh(registry: AgentRegistry, logger: Logger = silentLogger()): Promise<boolean> {
    try {
      await this.readCard();
    } catch (error) {
      logger.warn({ agentId: this.id, err: (error as Error).message }, 'agent card not read; registration kept');
      return false;
    }
    const definition = this.definition();
    const capabilities = definition?.capabilities ?? [];
    if (sameList(capabilities, this.#registered)) return true;
    if (definition) await registry.register(definition);
    else await registry.deregister(this.id);
    logger.info({ agentId: this.id, capabilities, before: this.#registered }, 'agent card changed');
    this.#registered = capabilities;
    return true;
  }

  /** Refresh now and every `refreshMs` until `stop`. Resolves after the first refresh. */
  async watch(registry: AgentRegistry, logger?: Logger): Promise<boolean> {
    this.stop();
    const first = await this.refresh(registry, logger);
    const every = this.#options.refreshMs ?? DEFAULT_CARD_REFRESH_MS;
    const again = (): void => {
      this.#timer = setTimeout(() => void this.refresh(registry, logger).finally(() => this.#timer && again()), every);
      this.#timer.unref();
    };
    again();
    return first;
  }

  stop(): void {
    const timer = this.#timer;
    this.#timer = undefined;
    clearTimeout(timer);
  }
}

/** A fetch that adds the agent's credentials to every request. */
function withCredentials(base: typeof fetch, options: RemoteAgentOptions): typeof fetch {
  const extra: Record<string, string> = { ...options.headers, ...(options.token === undefined ? {} : { authorization: `Bearer ${options.token}` }) };
  if (Object.keys(extra).length === 0) return base;
  return (input, init) => {
    const headers = new Headers(init?.headers);
    for (const [name, value] of Object.entries(extra)) headers.set(name, value);
    return base(input, { ...init, headers });
  };
}

function withSlash(url: string): string {
  return url.endsWith('/') ? url : `${url}/`;
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((value, index) => value === b[index]);
}
