/**
 * `inProcessTransport` as docs/agents.md ("Writing an in-process agent") describes it: the handler's
 * context, `undefined` answered as `null`, and only the actions it was given.
 */
import { describe, expect, it } from 'vitest';
import { type ActionContext, inProcessTransport } from '../../src/agents/in-process-transport.js';
import { AgentFailure, callTransport } from '../../src/agents/transport.js';
import { ManualClock, call } from './support.js';

const clock = new ManualClock();

describe('in-process transport', () => {
  it('hands the handler its input and a context with the call, key, attempt, kind and signal', async () => {
    let seen: { input: unknown; key: string; attempt: number; kind: string; signal: AbortSignal; call: unknown } | undefined;
    const transport = inProcessTransport({
      undo: (input, ctx: ActionContext) => {
        seen = { input, key: ctx.idempotencyKey, attempt: ctx.attempt, kind: ctx.kind, signal: ctx.signal, call: ctx.call };
        return { undone: true };
      },
    });
    const request = call(clock, { action: 'undo', attempt: 4, kind: 'compensation', idempotencyKey: 'wf-1:step-a:compensate', input: { order: 7 } });
    const controller = new AbortController();
    expect(await callTransport(transport, request, { signal: controller.signal })).toEqual({ ok: true, output: { undone: true } });
    expect(seen).toEqual({ input: { order: 7 }, key: 'wf-1:step-a:compensate', attempt: 4, kind: 'compensation', signal: controller.signal, call: request });
  });

  it('answers a handler that returns nothing with a null output', async () => {
    const transport = inProcessTransport({ work: () => undefined, later: async () => {} });
    const { signal } = new AbortController();
    expect(await callTransport(transport, call(clock), { signal })).toEqual({ ok: true, output: null });
    expect(await callTransport(transport, call(clock, { action: 'later' }), { signal })).toEqual({ ok: true, output: null });
  });

  it('knows only its own actions, not those an object inherits', async () => {
    const transport = inProcessTransport({ work: () => 1 });
    const { signal } = new AbortController();
    for (const action of ['toString', 'constructor', 'hasOwnProperty', 'other']) {
      expect(await callTransport(transport, call(clock, { action }), { signal })).toEqual({
        ok: false, error: { message: `Unknown action "${action}"`, code: 'unknown-action', retryable: false },
      });
    }
  });

  it('fails with what the handler threw: AgentFailure as chosen, anything else retryable', async () => {
    const transport = inProcessTransport({
      refuse: () => { throw new AgentFailure('over the limit', 'risk-limit', false); },
      crash: () => { throw new Error('boom'); },
      reject: () => Promise.reject(new Error('later boom')),
    });
    const { signal } = new AbortController();
    expect(await callTransport(transport, call(clock, { action: 'refuse' }), { signal })).toEqual({ ok: false, error: { message: 'over the limit', code: 'risk-limit', retryable: false } });
    expect(await callTransport(transport, call(clock, { action: 'crash' }), { signal })).toEqual({ ok: false, error: { message: 'boom', code: 'agent-error', retryable: true } });
    expect(await callTransport(transport, call(clock, { action: 'reject' }), { signal })).toEqual({ ok: false, error: { message: 'later boom', code: 'agent-error', retryable: true } });
  });
});
