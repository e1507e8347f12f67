/**
 * The agent side: `serveAgent` exposes plain async functions (the same handlers `defineAgent` takes)
 * as a remote agent, over A2A (JSON-RPC with streaming, on @a2a-js/sdk's framework-agnostic request
 * handler, mounted on fastify) and over the plain HTTP transport (`POST /call`), both honouring the
 * idempotency key through one memory. The card lists one skill per capability; a bearer token, when
 * given, is required on every call (the card stays public: it is how callers find the agent).
 */
import { timingSafeEqual } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { AGENT_CARD_PATH, A2A_PROTOCOL_VERSION, Role, TaskState, type AgentCard, type Message } from '@a2a-js/sdk';
import type { AgentExecutionEvent, AgentExecutor, ExecutionEventBus, RequestContext } from '@a2a-js/sdk/server';
import type { FastifyInstance } from 'fastify';
import { inProcessTransport, type ActionHandler } from '../in-process-transport.js';
import { type AgentCall, type AgentCallResult, callTransport, failure } from '../transport.js';
import { OPERATOR_WAIT_CODES } from '../../saga/steps.js';
import { IdempotencyMemory } from './idempotency.js';
import { FAILURE_METADATA, callFromMessage, resultArtifact, textPart } from './wire.js';
import { isJson } from '../../store/validation.js';

export interface ServeAgentOptions {
  /** The agent's name on its card. */
  readonly name: string;
  readonly description?: string;
  /** One function per action, as for `defineAgent`. Throw `AgentFailure(message, 'input-required')` to ask an operator. */
  readonly handlers: Readonly<Record<string, ActionHandler>>;
  /**
   * The capabilities the card advertises, one skill each. A function is asked on every card
   * request, so an agent can drop a skill while it runs. Default: the action names.
   */
  readonly skills?: readonly string[] | (() => readonly string[]);
  /** Require `Authorization: Bearer <token>` on every call (not on the card). */
  readonly token?: string;
  /** Default 127.0.0.1. */
  readonly host?: string;
  /** Default 0: any free port. */
  readonly port?: number;
  /** Serve https with this key and certificate (PEM). */
  readonly tls?: { readonly key: string | Buffer; readonly cert: string | Buffer };
  /** Final answers remembered per idempotency key. Default 10,000. */
  readonly idempotencyEntries?: number;
  /** Told of every call as it arrives, repeated keys included, before the idempotency memory (for logs and tests). */
  readonly onCall?: (call: AgentCall) => void;
}

export interface ServedAgent {
  /** The base URL (`http://host:port`): what a config names and where the card is found. */
  readonly url: string;
  /** The A2A JSON-RPC endpoint. */
  readonly a2aUrl: string;
  /** The plain HTTP transport's endpoint (`httpAgent({ url })`). */
  readonly httpUrl: string;
  /** How many times each action's handler actually ran (repeated keys do not count). */
  readonly runs: ReadonlyMap<string, number>;
  close(): Promise<void>;
}

const A2A_PATH = '/a2a';
const HTTP_PATH = '/call';

export async function serveAgent(options: ServeAgentOptions): Promise<ServedAgent> {
  for (const [action, handler] of Object.entries(options.handlers)) {
    if (typeof handler !== 'function') throw new TypeError(`Agent "${options.name}": handler for action "${action}" is a ${typeof handler}, not a function`);
  }
  if (options.token !== undefined && options.token.trim().length < 16) throw new TypeError(`Agent "${options.name}": the token must be at least 16 characters`);
  // Loaded here, not at import: the package surface and the CLI import this module, and most of
  // their users never serve an agent.
  const [{ default: Fastify }, { DefaultRequestHandler, InMemoryTaskStore, JsonRpcTransportHandler, ServerCallContext }] = await Promise.all([import('fastify'), import('@a2a-js/sdk/server')]);
  const memory = new IdempotencyMemory(options.idempotencyEntries);
  const runs = new Map<string, number>();
  const perform = performer(options.handlers, memory, runs, options.onCall);
  const app = Fastify({ logger: false, ...(options.tls ? { https: { key: options.tls.key, cert: options.tls.cert } } : {}) }) as unknown as FastifyInstance;
  let baseUrl = '';
  const skills = (): readonly string[] => (typeof options.skills === 'function' ? options.skills() : (options.skills ?? Object.keys(options.handlers)));
  const card = (): AgentCard => agentCard(options, baseUrl, skills());
  const executor = new HandlerExecutor(perform);
  const requestHandler = new DefaultRequestHandler(card(), new InMemoryTaskStore(), executor);
  // The SDK's handler keeps the card it was given; the served card is made fresh on each request.
  requestHandler.getAgentCard = () => Promise.resolve(card());
  const rpc = new JsonRpcTransportHandler(requestHandler);

  if (options.token !== undefined) requireToken(app, options.token);
  app.get(`/${AGENT_CARD_PATH}`, async (_request, reply) => reply.header('cache-control', 'no-cache').send(card()));
  app.post(A2A_PATH, async (request, reply) => {
    const context = new ServerCallContext({ requestedVersion: headerText(request.headers['a2a-version']) ?? A2A_PROTOCOL_VERSION });
    const answer = await rpc.handle(request.body as Record<string, unknown>, context);
    if (!isAsyncIterable(answer)) return reply.send(answer);
    reply.hijack();
    reply.raw.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
    try {
      for await (const event of answer) reply.raw.write(`data: ${JSON.stringify(event)}\n\n`);
    } catch (error) {
      const id = (request.body as { id?: unknown } | undefined)?.id ?? null;
      reply.raw.write(`event: error\ndata: ${JSON.stringify({ jsonrpc: '2.0', id, error: JsonRpcTransportHandler.mapToJSONRPCError(error) })}\n\n`);
    }
    reply.raw.end();
    return reply;
  });
  app.post(HTTP_PATH, async (request, reply) => {
    const call = plainCall(request.body);
    if (typeof call === 'string') return reply.code(400).send(failure(call, 'bad-request', false));
    return reply.send(await perform(call, new AbortController().signal));
  });

  await app.listen({ host: options.host ?? '127.0.0.1', port: options.port ?? 0 });
  const address = app.server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  baseUrl = `${options.tls ? 'https' : 'http'}://${host}:${address.port}`;
  return {
    url: baseUrl,
    a2aUrl: `${baseUrl}${A2A_PATH}`,
    httpUrl: `${baseUrl}${HTTP_PATH}`,
    runs,
    close: async () => {
      executor.abortAll();
      await app.close();
    },
  };
}

type Perform = (call: AgentCall, signal: AbortSignal) => Promise<AgentCallResult>;

/** One call through the idempotency memory to its handler (via the in-process transport's rules). */
function performer(handlers: Readonly<Record<string, ActionHandler>>, memory: IdempotencyMemory, runs: Map<string, number>, onCall: ((call: AgentCall) => void) | undefined): Perform {
  const transport = inProcessTransport(handlers);
  return async (call, signal) => {
    onCall?.(call);
    const { result } = await memory.run(
      call.idempotencyKey,
      () => {
        runs.set(call.action, (runs.get(call.action) ?? 0) + 1);
        return callTransport(transport, call, { signal });
      },
      (answer) => !signal.aborted && (answer.ok || (!answer.error.retryable && !OPERATOR_WAIT_CODES.includes(answer.error.code ?? ''))),
    );
    return result;
  };
}

/** Runs each message's call as a task: submitted, working, then completed with a `result` artifact, failed, rejected or input-required. */
class HandlerExecutor implements AgentExecutor {
  readonly #running = new Map<string, AbortController>();

  constructor(private readonly perform: Perform) {}

  async execute(context: RequestContext, bus: ExecutionEventBus): Promise<void> {
    const { taskId, contextId } = context;
    const message = context.userMessage;
    bus.publish(taskEvent({ id: taskId, contextId, status: { state: TaskState.TASK_STATE_SUBMITTED, message: undefined, timestamp: new Date().toISOString() }, artifacts: [], history: [message], metadata: undefined }));
    const call = callFromMessage(message);
    if (typeof call === 'string') {
      finish(bus, taskId, contextId, TaskState.TASK_STATE_REJECTED, call, { [FAILURE_METADATA.code]: 'bad-request', [FAILURE_METADATA.retryable]: false });
      return;
    }
    const controller = new AbortController();
    this.#running.set(taskId, controller);
    bus.publish(statusEvent({ taskId, contextId, status: { state: TaskState.TASK_STATE_WORKING, message: undefined, timestamp: new Date().toISOString() }, metadata: undefined }));
    try {
      const result = await this.perform(call, controller.signal);
      if (controller.signal.aborted) return; // cancelled: the cancel already published the final state
      if (result.ok) {
        bus.publish(artifactEvent({ taskId, contextId, artifact: resultArtifact(result.output), append: false, lastChunk: true, metadata: undefined }));
        finish(bus, taskId, contextId, TaskState.TASK_STATE_COMPLETED, '', undefined);
        return;
      }
      const { message: reason, code, retryable } = result.error;
      const state =
        code === 'input-required' ? TaskState.TASK_STATE_INPUT_REQUIRED
        : code === 'auth-required' ? TaskState.TASK_STATE_AUTH_REQUIRED
        : code === 'unknown-action' ? TaskState.TASK_STATE_REJECTED
        : TaskState.TASK_STATE_FAILED;
      finish(bus, taskId, contextId, state, reason, { [FAILURE_METADATA.code]: code ?? 'agent-error', [FAILURE_METADATA.retryable]: retryable });
    } finally {
      this.#running.delete(taskId);
    }
  }

  cancelTask(taskId: string, bus: ExecutionEventBus): Promise<void> {
    const controller = this.#running.get(taskId);
    controller?.abort(new Error('task cancelled'));
    bus.publish(statusEvent({ taskId, contextId: '', status: { state: TaskState.TASK_STATE_CANCELED, message: undefined, timestamp: new Date().toISOString() }, metadata: undefined }));
    return Promise.resolve();
  }

  abortAll(): void {
    for (const controller of this.#running.values()) controller.abort(new Error('agent stopping'));
  }
}

// The SDK's AgentEvent helpers, as literals: this module loads the SDK's server only when serving.
const taskEvent = (data: Extract<AgentExecutionEvent, { kind: 'task' }>['data']): AgentExecutionEvent => ({ kind: 'task', data });
const statusEvent = (data: Extract<AgentExecutionEvent, { kind: 'statusUpdate' }>['data']): AgentExecutionEvent => ({ kind: 'statusUpdate', data });
const artifactEvent = (data: Extract<AgentExecutionEvent, { kind: 'artifactUpdate' }>['data']): AgentExecutionEvent => ({ kind: 'artifactUpdate', data });

function finish(bus: ExecutionEventBus, taskId: string, contextId: string, state: TaskState, text: string, metadata: Record<string, unknown> | undefined): void {
  const message: Message | undefined = text || metadata
    ? { messageId: `${taskId}:status`, contextId, taskId, role: Role.ROLE_AGENT, parts: text ? [textPart(text)] : [], metadata, extensions: [], referenceTaskIds: [] }
    : undefined;
  bus.publish(statusEvent({ taskId, contextId, status: { state, message, timestamp: new Date().toISOString() }, metadata: undefined }));
}

function agentCard(options: ServeAgentOptions, baseUrl: string, skills: readonly string[]): AgentCard {
  const secured = options.token !== undefined;
  return {
    name: options.name,
    description: options.description ?? `cadenza agent ${options.name}`,
    supportedInterfaces: [{ url: `${baseUrl}${A2A_PATH}`, protocolBinding: 'JSONRPC', tenant: '', protocolVersion: A2A_PROTOCOL_VERSION }],
    provider: undefined,
    version: '1.0.0',
    capabilities: { streaming: true, pushNotifications: false, extensions: [], extendedAgentCard: false },
    securitySchemes: secured ? { bearer: { scheme: { $case: 'httpAuthSecurityScheme', value: { description: 'a bearer token', scheme: 'Bearer', bearerFormat: '' } } } } : {},
    securityRequirements: secured ? [{ schemes: { bearer: { list: [] } } }] : [],
    defaultInputModes: ['application/json'],
    defaultOutputModes: ['application/json'],
    skills: skills.map((id) => ({ id, name: id, description: `capability ${id}`, tags: [id], examples: [], inputModes: [], outputModes: [], securityRequirements: [] })),
    signatures: [],
  };
}

function requireToken(app: FastifyInstance, token: string): void {
  const expected = Buffer.from(`Bearer ${token}`);
  app.addHook('onRequest', async (request, reply) => {
    if (request.method === 'GET' && request.url === `/${AGENT_CARD_PATH}`) return;
    const given = Buffer.from(request.headers.authorization ?? '');
    if (given.length === expected.length && timingSafeEqual(given, expected)) return;
    return reply
      .code(401)
      .header('www-authenticate', 'Bearer realm="cadenza-agent"')
      .send({ error: request.headers.authorization ? 'the bearer token is wrong' : 'this agent needs a bearer token (Authorization: Bearer <token>)' });
  });
}

/** A plain-HTTP call body: an AgentCall as `httpTransport` posts it, or what is wrong with it. */
function plainCall(body: unknown): AgentCall | string {
  if (typeof body !== 'object' || body === null) return 'the body must be a JSON object (an agent call)';
  const call = body as Partial<AgentCall>;
  for (const field of ['workflowId', 'stepId', 'action', 'idempotencyKey'] as const) {
    if (typeof call[field] !== 'string' || call[field].length === 0) return `"${field}" must be a non-empty string`;
  }
  if (typeof call.attempt !== 'number' || typeof call.deadline !== 'number') return '"attempt" and "deadline" must be numbers';
  if (!isJson(call.input)) return '"input" must be plain JSON';
  return { ...(call as AgentCall), kind: call.kind === 'compensation' ? 'compensation' : 'step' };
}

function headerText(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return typeof (value as { [Symbol.asyncIterator]?: unknown } | null)?.[Symbol.asyncIterator] === 'function';
}

