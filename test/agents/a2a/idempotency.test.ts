/**
 * src/agents/a2a/idempotency.ts on its own (agent-side.test.ts drives it through a served agent):
 * final answers kept per key, others forgotten, one run for concurrent deliveries of a key, the
 * bound of docs/agents.md (10,000 by default, the oldest forgotten first).
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_IDEMPOTENCY_ENTRIES, IdempotencyMemory } from '../../../src/agents/a2a/idempotency.js';
import { type AgentCallResult, failure } from '../../../src/agents/index.js';

const isFinal = (result: AgentCallResult): boolean => result.ok || !result.error.retryable;

/** A run of `work` for `key` that counts how often the work actually ran. */
function counter(memory: IdempotencyMemory): { run: (key: string, answer: AgentCallResult) => Promise<{ result: AgentCallResult; ran: boolean }>; ran: () => number } {
  let runs = 0;
  return {
    run: (key, answer) => memory.run(key, () => { runs++; return Promise.resolve(answer); }, isFinal),
    ran: () => runs,
  };
}

describe('IdempotencyMemory', () => {
  it('answers a repeated key with the first final answer without running the work again', async () => {
    const memory = new IdempotencyMemory();
    const { run, ran } = counter(memory);
    expect(await run('k', { ok: true, output: 1 })).toEqual({ result: { ok: true, output: 1 }, ran: true });
    expect(await run('k', { ok: true, output: 2 })).toEqual({ result: { ok: true, output: 1 }, ran: false });
    const refused = failure('no such account', 'rejected', false);
    expect(await run('r', refused)).toEqual({ result: refused, ran: true });
    expect(await run('r', { ok: true, output: 3 })).toEqual({ result: refused, ran: false });
    expect(ran()).toBe(2);
    expect(memory.size).toBe(2);
  });

  it('forgets an answer that is not final, so the next delivery runs the work', async () => {
    const memory = new IdempotencyMemory();
    const { run, ran } = counter(memory);
    expect(await run('k', failure('busy', 'busy', true))).toEqual({ result: failure('busy', 'busy', true), ran: true });
    expect(memory.size).toBe(0);
    expect(await run('k', { ok: true, output: 'second' })).toEqual({ result: { ok: true, output: 'second' }, ran: true });
    expect(ran()).toBe(2);
  });

  it('gives deliveries of a key whose first run is going that run\'s answer, final or not', async () => {
    const memory = new IdempotencyMemory();
    let release: (result: AgentCallResult) => void = () => undefined;
    let runs = 0;
    const slow = (): Promise<AgentCallResult> => { runs++; return new Promise((resolve) => (release = resolve)); };
    const first = memory.run('k', slow, isFinal);
    const second = memory.run('k', slow, isFinal);
    release(failure('busy', 'busy', true));
    expect(await first).toEqual({ result: failure('busy', 'busy', true), ran: true });
    expect(await second).toEqual({ result: failure('busy', 'busy', true), ran: false });
    expect(runs).toBe(1);
    // Once that run ended, the key is free again: the answer was not final.
    const third = memory.run('k', slow, isFinal);
    release({ ok: true, output: 'done' });
    expect(await third).toEqual({ result: { ok: true, output: 'done' }, ran: true });
    expect(runs).toBe(2);
  });

  it('keeps nothing of a run that threw, and runs the next delivery', async () => {
    const memory = new IdempotencyMemory();
    await expect(memory.run('k', () => Promise.reject(new Error('crashed')), isFinal)).rejects.toThrow('crashed');
    expect(await memory.run('k', () => Promise.resolve({ ok: true, output: 1 }), isFinal)).toEqual({ result: { ok: true, output: 1 }, ran: true });
  });

  it('keeps at most maxEntries answers, forgetting the oldest first', async () => {
    const memory = new IdempotencyMemory(2);
    const { run, ran } = counter(memory);
    for (const key of ['a', 'b']) await run(key, { ok: true, output: key });
    expect(memory.size).toBe(2);
    await run('c', { ok: true, output: 'c' });
    expect(memory.size).toBe(2);
    expect(await run('b', { ok: true, output: 'b again' })).toEqual({ result: { ok: true, output: 'b' }, ran: false });
    expect(await run('c', { ok: true, output: 'c again' })).toEqual({ result: { ok: true, output: 'c' }, ran: false });
    expect(await run('a', { ok: true, output: 'a again' })).toEqual({ result: { ok: true, output: 'a again' }, ran: true });
    expect(ran()).toBe(4);
  });

  it('keeps 10,000 by default and refuses a bound that is not a positive integer', () => {
    expect(DEFAULT_IDEMPOTENCY_ENTRIES).toBe(10_000);
    expect(new IdempotencyMemory().maxEntries).toBe(10_000);
    expect(new IdempotencyMemory(1).maxEntries).toBe(1);
    for (const bad of [0, -1, 1.5, Number.NaN]) {
      expect(() => new IdempotencyMemory(bad)).toThrow(new RangeError(`idempotency maxEntries must be a positive integer, got ${bad}`));
    }
  });
});
