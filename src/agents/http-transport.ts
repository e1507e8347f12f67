/**
 * A plain HTTP transport: POST the call as JSON, read an `AgentCallResult` as JSON. The reference
 * for remote transports (an Agent2Agent one follows the same rules; see docs/agents.md). The trace
 * context of the call's span (W3C `traceparent`), when there is one, goes along as headers.
 */
import { type AgentCall, type AgentCallResult, type AgentTransport, type CallCancellation, agentCallResultSchema, failure } from './transport.js';

export interface HttpTransportOptions {
  /** The agent's endpoint; every action goes to it (the action is in the body). */
  readonly url: string | URL;
  /** Extra headers, e.g. authorization. */
  readonly headers?: Readonly<Record<string, string>>;
  /** Injected for tests or custom agents; default: the global fetch. */
  readonly fetch?: typeof fetch;
}

/** Statuses after which trying again (here or elsewhere) may work. */
function isRetryableStatus(status: number): boolean {
  return status >= 500 || status === 408 || status === 429;
}

export function httpTransport(options: HttpTransportOptions): AgentTransport {
  const send = options.fetch ?? fetch;
  return {
    async invoke(call: AgentCall, { signal }: CallCancellation): Promise<AgentCallResult> {
      let response: Response;
      const { trace, ...sent } = call;
      try {
        response = await send(options.url, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'idempotency-key': call.idempotencyKey,
            'x-cadenza-deadline': new Date(call.deadline).toISOString(),
            ...options.headers,
            ...trace,
          },
          body: JSON.stringify(sent),
          signal,
        });
      } catch (error) {
        return failure(`HTTP request to ${String(options.url)} failed: ${error instanceof Error ? error.message : String(error)}`, 'unreachable', true);
      }
      const body = parseJson(await response.text());
      const parsed = agentCallResultSchema.safeParse(body);
      // An error status with a well-formed failure body: the agent said what went wrong.
      if (parsed.success && (response.ok || !parsed.data.ok)) return parsed.data as AgentCallResult;
      if (!response.ok) return failure(`HTTP ${response.status} from ${String(options.url)}`, `http-${response.status}`, isRetryableStatus(response.status));
      return failure(`Malformed agent response from ${String(options.url)}`, 'invalid-result', false);
    },
  };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
