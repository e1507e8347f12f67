/**
 * The A2A transport's classification of what went wrong with a peer (`classify` in
 * src/agents/a2a/transport.ts), docs/agents.md's "Bad peers" table for the errors the SDK and
 * fetch throw. The HTTP-status rows need a real answer: transport.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { classify } from '../../../src/agents/a2a/transport.js';

const name = 'agent "pay" (http://pay)';

function rpcError(message: string, fields: Record<string, unknown>): Error {
  return Object.assign(new Error(message), fields);
}

describe('classify', () => {
  it('names a lost task (-32001) as such, and a JSON-RPC error otherwise, retryable except for invalid params (-32602)', () => {
    expect(classify(name, rpcError('Task not found', { code: -32001 }))).toEqual({ ok: false, error: { message: 'agent "pay" (http://pay): the task is gone (Task not found)', code: 'task-lost', retryable: true } });
    expect(classify(name, rpcError('bad params', { code: -32602 }))).toEqual({ ok: false, error: { message: 'agent "pay" (http://pay): JSON-RPC error -32602: bad params', code: 'jsonrpc-error', retryable: false } });
    expect(classify(name, rpcError('internal kaboom', { code: -32603 }))).toEqual({ ok: false, error: { message: 'agent "pay" (http://pay): JSON-RPC error -32603: internal kaboom', code: 'jsonrpc-error', retryable: true } });
    // The SDK's envelope code comes first; a code that is not a negative number is no JSON-RPC code.
    expect(classify(name, rpcError('gone', { envelopeCode: -32001, code: 3 }))).toMatchObject({ error: { code: 'task-lost' } });
    expect(classify(name, rpcError('odd', { code: 0 }))).toMatchObject({ error: { code: 'a2a-error' } });
    expect(classify(name, rpcError('odd', { code: '-32603' }))).toMatchObject({ error: { code: 'a2a-error' } });
  });

  it('calls an answer that is not A2A an invalid response, retryable', () => {
    expect(classify(name, new SyntaxError('Bad control character'))).toEqual({ ok: false, error: { message: 'agent "pay" (http://pay): answered something that is not A2A: Bad control character', code: 'invalid-response', retryable: true } });
    for (const message of ['body is not JSON', 'Unexpected token < in body', 'an invalid response came back', 'cannot parse the body', 'json expected', 'PARSE failed']) {
      expect(classify(name, new Error(message)), message).toMatchObject({ error: { code: 'invalid-response', retryable: true } });
    }
  });

  it('calls a peer it could not talk to unreachable, retryable, with the cause\'s code or message', () => {
    const refused = Object.assign(new TypeError('fetch failed'), { cause: Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), { code: 'ECONNREFUSED' }) });
    expect(classify(name, refused)).toEqual({ ok: false, error: { message: 'agent "pay" (http://pay): unreachable: fetch failed (ECONNREFUSED)', code: 'unreachable', retryable: true } });
    const reset = Object.assign(new Error('terminated'), { cause: new Error('other side closed') });
    expect(classify(name, reset)).toEqual({ ok: false, error: { message: 'agent "pay" (http://pay): unreachable: terminated (other side closed)', code: 'unreachable', retryable: true } });
    expect(classify(name, new TypeError('boom'))).toEqual({ ok: false, error: { message: 'agent "pay" (http://pay): unreachable: boom', code: 'unreachable', retryable: true } });
    for (const message of ['fetch failed', 'read ECONNRESET', 'socket hang up', 'terminated', 'connection closed', 'the other side went away']) {
      expect(classify(name, new Error(message)), message).toMatchObject({ error: { code: 'unreachable', retryable: true } });
    }
  });

  it('calls anything else an A2A error, retryable, in the peer\'s words', () => {
    expect(classify(name, new Error('something else'))).toEqual({ ok: false, error: { message: 'agent "pay" (http://pay): something else', code: 'a2a-error', retryable: true } });
    expect(classify(name, 'a bare string')).toEqual({ ok: false, error: { message: 'agent "pay" (http://pay): a bare string', code: 'a2a-error', retryable: true } });
    expect(classify(name, null)).toEqual({ ok: false, error: { message: 'agent "pay" (http://pay): null', code: 'a2a-error', retryable: true } });
  });

  it('gives up on a cause chain that loops instead of following it forever', () => {
    const looped = new Error('looped');
    Object.assign(looped, { cause: looped });
    expect(classify(name, looped)).toMatchObject({ error: { code: 'a2a-error' } });
  });
});
