/**
 * The A2A transport (client side): one agent call = one message to the agent, the step's input as
 * a data part and the call's identity in the metadata (wire.ts). The answer is a task, followed to
 * its end by streaming when the card offers it, else by polling `tasks/get`; its final state maps
 * onto an outcome (outcome.ts). A task still running after `recordTaskAfterMs` is reported to the
 * runtime (StepTaskAccepted), and a call that carries a task id follows that task instead of
 * sending again. A deadline or a cancel sends `tasks/cancel`; a shutdown (CallDetached) does not.
 * Every failure of the peer (refused, dropped, slow, garbage, JSON-RPC error) becomes a classified
 * failure result; nothing throws out of `invoke`.
 */
import type { AgentCard, Task } from '@a2a-js/sdk';
import { ClientFactory, ClientFactoryOptions, JsonRpcTransportFactory, type Client } from '@a2a-js/sdk/client';
import { type AgentCall, type AgentCallResult, type AgentTransport, type CallCancellation, CallDetached, failure } from '../transport.js';
import { taskOutcome } from './outcome.js';
import { FINAL_STATES, INTERRUPTED_STATES, callMessage } from './wire.js';

export interface A2aTransportOptions {
  /** For messages: the agent's name or id. */
  readonly name: string;
  /** The current card (discovery refreshes it). Undefined until it has been read. */
  readonly card: () => AgentCard | undefined;
  /** The fetch every request goes through (credentials are added there). */
  readonly fetch: typeof fetch;
  /** How to follow a task: by the card (stream if it says so), or always by polling. Default 'card'. */
  readonly follow?: 'card' | 'poll';
  /** A task still running this long after the call started is reported (StepTaskAccepted). Default 250 ms. */
  readonly recordTaskAfterMs?: number;
  /** First polling interval; doubles up to 2 s. Default 20 ms. */
  readonly pollIntervalMs?: number;
}

const MAX_POLL_INTERVAL_MS = 2_000;
const CANCEL_TIMEOUT_MS = 2_000;

export class A2aTransport implements AgentTransport {
  readonly #options: A2aTransportOptions;
  #client: { card: AgentCard; client: Promise<Client> } | undefined;

  constructor(options: A2aTransportOptions) {
    this.#options = options;
  }

  async invoke(call: AgentCall, cancellation: CallCancellation): Promise<AgentCallResult> {
    const card = this.#options.card();
    if (!card) return failure(`${this.#options.name}: its agent card has not been read yet`, 'unreachable', true);
    const tracker = new TaskTracker(cancellation, this.#options.recordTaskAfterMs ?? 250, call.taskId);
    try {
      const client = await this.#clientFor(card);
      const streaming = this.#options.follow !== 'poll' && card.capabilities?.streaming === true;
      if (call.taskId !== undefined) return await this.#follow(client, call.taskId, streaming, cancellation.signal, tracker);
      if (streaming) return await this.#sendStreaming(client, call, cancellation.signal, tracker);
      const answer = await client.sendMessage({ tenant: '', message: callMessage(call), configuration: { acceptedOutputModes: [], taskPushNotificationConfig: undefined, returnImmediately: true }, metadata: undefined }, { signal: cancellation.signal });
      if (!isTask(answer)) return failure(`${this.#options.name}: answered with a message, not a task`, 'invalid-result', true);
      tracker.seen(answer.id);
      return this.#settled(answer, tracker) ?? (await this.#poll(client, answer.id, cancellation.signal, tracker));
    } catch (error) {
      if (cancellation.signal.aborted) return failure(`${this.#options.name}: call stopped`, 'cancelled', false);
      return classify(this.#options.name, error);
    } finally {
      tracker.close();
      if (cancellation.signal.aborted && tracker.taskId !== undefined && !tracker.settled && !(cancellation.signal.reason instanceof CallDetached)) {
        void this.#cancelTask(card, tracker.taskId);
      }
    }
  }

  async #sendStreaming(client: Client, call: AgentCall, signal: AbortSignal, tracker: TaskTracker): Promise<AgentCallResult> {
    const stream = client.sendMessageStream({ tenant: '', message: callMessage(call), configuration: undefined, metadata: undefined }, { signal });
    const task = await this.#consume(stream, undefined, tracker);
    if (task) {
      const outcome = this.#settled(task, tracker);
      if (outcome) return outcome;
    }
    // The stream ended before the task did (a dropped connection): ask for the task itself.
    if (tracker.taskId === undefined) return failure(`${this.#options.name}: the stream ended before the agent named a task`, 'stream-ended', true);
    return this.#follow(client, tracker.taskId, false, signal, tracker);
  }

  /** Follows a known task: its state now, then its stream (or polling) to the end. */
  async #follow(client: Client, taskId: string, streaming: boolean, signal: AbortSignal, tracker: TaskTracker): Promise<AgentCallResult> {
    tracker.seen(taskId);
    const now = await client.getTask({ tenant: '', id: taskId }, { signal });
    const outcome = this.#settled(now, tracker);
    if (outcome) return outcome;
    if (streaming) {
      // A task that ends between the read above and the subscription cannot be subscribed to (the
      // agent answers an error, -32004 from the SDK's server): polling reads its final state.
      const task = await this.#consume(client.resubscribeTask({ tenant: '', id: taskId }, { signal }), now, tracker).catch((error: unknown) => {
        if (signal.aborted) throw error;
        return undefined;
      });
      const streamed = task ? this.#settled(task, tracker) : undefined;
      if (streamed) return streamed;
    }
    return this.#poll(client, taskId, signal, tracker);
  }

  async #poll(client: Client, taskId: string, signal: AbortSignal, tracker: TaskTracker): Promise<AgentCallResult> {
    let interval = this.#options.pollIntervalMs ?? 20;
    // Bounded by the call's deadline: the invoker aborts `signal` then, and the sleep and the request end with it.
    for (;;) {
      await sleep(interval, signal);
      const task = await client.getTask({ tenant: '', id: taskId }, { signal });
      tracker.seen(task.id);
      const outcome = this.#settled(task, tracker);
      if (outcome) return outcome;
      interval = Math.min(interval * 2, MAX_POLL_INTERVAL_MS);
    }
  }

  /** Folds a task's stream into the task as it stands at the stream's end (or at its final state). A message in the stream changes nothing. */
  async #consume(stream: AsyncIterable<{ payload?: { $case: string; value: unknown } | undefined }>, start: Task | undefined, tracker: TaskTracker): Promise<Task | undefined> {
    let task = start;
    for await (const response of stream) {
      const payload = response.payload;
      if (!payload) continue;
      if (payload.$case === 'task') task = payload.value as Task;
      else if (payload.$case === 'statusUpdate' && task) task = { ...task, status: (payload.value as Task).status };
      else if (payload.$case === 'artifactUpdate' && task) {
        const artifact = (payload.value as { artifact?: Task['artifacts'][number] }).artifact;
        if (artifact) task = { ...task, artifacts: [...task.artifacts, artifact] };
      }
      if (task) tracker.seen(task.id);
      const state = task?.status?.state;
      if (state !== undefined && (FINAL_STATES.has(state) || INTERRUPTED_STATES.has(state))) return task;
    }
    return task;
  }

  /** The outcome of a task that has settled (or stopped for someone), else undefined. */
  #settled(task: Task, tracker: TaskTracker): AgentCallResult | undefined {
    const outcome = taskOutcome(task, this.#options.name);
    if (outcome) tracker.settled = true;
    return outcome;
  }

  async #cancelTask(card: AgentCard, taskId: string): Promise<void> {
    try {
      const client = await this.#clientFor(card);
      await client.cancelTask({ tenant: '', id: taskId, metadata: undefined }, { signal: AbortSignal.timeout(CANCEL_TIMEOUT_MS) });
    } catch {
      // Best effort: the task may have ended meanwhile, or the agent be gone; the engine has moved on either way.
    }
  }

  #clientFor(card: AgentCard): Promise<Client> {
    if (this.#client?.card !== card) {
      const factory = new ClientFactory(ClientFactoryOptions.createFrom(ClientFactoryOptions.default, { transports: [new JsonRpcTransportFactory({ fetchImpl: statusAware(this.#options.fetch) })] }));
      const client = factory.createFromAgentCard(card);
      client.catch(() => undefined);
      this.#client = { card, client };
    }
    return this.#client.client;
  }
}

/**
 * The task of one call: its id once known, whether it settled, and its report to the runtime,
 * made only for a task still running `recordAfterMs` after the call started (a fast task is not
 * worth an event).
 */
class TaskTracker {
  taskId: string | undefined;
  settled = false;
  #reported: boolean;
  #timer: NodeJS.Timeout | undefined;
  #due = false;

  constructor(
    private readonly cancellation: CallCancellation,
    recordAfterMs: number,
    known: string | undefined,
  ) {
    this.taskId = known;
    this.#reported = known !== undefined || cancellation.taskAccepted === undefined;
    if (!this.#reported) {
      this.#timer = setTimeout(() => {
        this.#due = true;
        this.#report();
      }, recordAfterMs);
      this.#timer.unref();
    }
  }

  seen(taskId: string): void {
    this.taskId ??= taskId;
    if (this.#due) this.#report();
  }

  close(): void {
    clearTimeout(this.#timer);
  }

  #report(): void {
    if (this.#reported || this.taskId === undefined) return;
    this.#reported = true;
    this.cancellation.taskAccepted?.(this.taskId);
  }
}

/** An HTTP answer that is not A2A at all: refused credentials, or an error page instead of JSON-RPC. */
class PeerStatusError extends Error {
  constructor(readonly status: number) {
    super(`HTTP ${status}`);
    this.name = 'PeerStatusError';
  }
}

/**
 * The SDK reports a refused request as "an unexpected error": this fetch names the status first,
 * so that a wrong token reads as one. An error status with a JSON body is left to the SDK (it may be
 * a JSON-RPC error, which says more).
 */
function statusAware(base: typeof fetch): typeof fetch {
  return async (input, init) => {
    const response = await base(input, init);
    if (response.status === 401 || response.status === 403) throw new PeerStatusError(response.status);
    if (!response.ok && !(response.headers.get('content-type') ?? '').includes('json')) throw new PeerStatusError(response.status);
    return response;
  };
}

function isTask(answer: unknown): answer is Task {
  return typeof answer === 'object' && answer !== null && 'status' in answer && 'artifacts' in answer;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(signal.reason as Error);
      return;
    }
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal.reason as Error);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

function causeChain(error: unknown): unknown[] {
  const chain: unknown[] = [];
  for (let current = error; current !== undefined && current !== null && chain.length < 8; current = (current as { cause?: unknown }).cause) chain.push(current);
  return chain;
}

/** JSON-RPC error codes after which the same request fails on any agent. */
const TERMINAL_RPC_CODES = new Set([-32602]);

/** What went wrong with a peer, as a failure the engine can act on. */
export function classify(name: string, error: unknown): AgentCallResult {
  const status = causeChain(error).find((cause): cause is PeerStatusError => cause instanceof PeerStatusError);
  if (status) {
    if (status.status === 401 || status.status === 403) return failure(`${name}: refused our credentials (HTTP ${status.status})`, 'unauthorized', true);
    return failure(`${name}: HTTP ${status.status} instead of an A2A answer`, `http-${status.status}`, status.status >= 500 || status.status === 408 || status.status === 429);
  }
  const message = error instanceof Error ? error.message : String(error);
  const rpcCode = (error as { envelopeCode?: unknown; code?: unknown } | null)?.envelopeCode ?? (error as { code?: unknown } | null)?.code;
  if (typeof rpcCode === 'number' && rpcCode < 0) {
    if (rpcCode === -32001) return failure(`${name}: the task is gone (${message})`, 'task-lost', true);
    return failure(`${name}: JSON-RPC error ${rpcCode}: ${message}`, 'jsonrpc-error', !TERMINAL_RPC_CODES.has(rpcCode));
  }
  if (error instanceof SyntaxError || /JSON|Unexpected token|invalid response|Invalid JSON-RPC|parse/i.test(message)) {
    return failure(`${name}: answered something that is not A2A: ${message}`, 'invalid-response', true);
  }
  if (error instanceof TypeError || /fetch failed|ECONN|socket|terminated|closed|other side/i.test(message)) {
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    return failure(`${name}: unreachable: ${message}${cause?.code ? ` (${cause.code})` : cause?.message ? ` (${cause.message})` : ''}`, 'unreachable', true);
  }
  return failure(`${name}: ${message}`, 'a2a-error', true);
}

