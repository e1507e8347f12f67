/**
 * Waiting for a workflow that another engine drives: two engines share one store and host different
 * definitions; each runtime leaves the other's workflows alone, yet `wait` here resolves when the
 * other one ends the workflow (and, with `orPaused`, when it pauses for an operator).
 */
import { describe, expect, it } from 'vitest';
import { createEngine, defineAgent } from '../../src/engine/index.js';
import { openStore } from '../../src/store/open.js';
import { workflow } from '../../src/workflow/index.js';
import { settlesWithin } from '../support/wait-for.js';

const charge = workflow('charge').step({ id: 'charge', action: 'charge', capability: 'payments', retry: { maxAttempts: 1 } }).build();
const ship = workflow('ship').step({ id: 'ship', action: 'ship', capability: 'shipping' }).build();

describe('wait for a workflow hosted by another engine', () => {
  it('resolves when the owning engine ends it', async () => {
    const store = await openStore('memory:');
    let release: (outcome: 'ok' | 'fail') => void = () => {};
    const gate = new Promise<'ok' | 'fail'>((resolve) => (release = resolve));
    let entered: () => void = () => {};
    const called = new Promise<void>((resolve) => (entered = resolve));
    const owner = await createEngine({
      store,
      definitions: [charge],
      agents: [defineAgent({ id: 'payments-1', capabilities: ['payments'], handlers: { charge: async () => { entered(); if ((await gate) === 'fail') throw new Error('declined'); return { paid: true }; } } })],
    });
    const watcher = await createEngine({ store, definitions: [ship], agents: [defineAgent({ id: 'shipping-1', capabilities: ['shipping'], handlers: { ship: async () => ({}) } })] });
    try {
      const first = await owner.start('charge', {});
      await called;
      const waited = watcher.wait(first.workflowId);
      // Still running at the owner: the watcher's wait has not resolved.
      const early = await Promise.race([waited.then(() => 'resolved'), new Promise((resolve) => setImmediate(() => resolve('pending')))]);
      expect(early).toBe('pending');
      release('ok');
      expect((await settlesWithin(waited, { what: "the watcher's wait to see the owner complete the workflow" })).status).toBe('completed');
      expect((await owner.wait(first.workflowId)).status).toBe('completed');
    } finally {
      await watcher.stop();
      await owner.stop();
      await store.close();
    }
  });

  it('resolves on a failure ended elsewhere, and reports a workflow already ended at once', async () => {
    const store = await openStore('memory:');
    let entered: () => void = () => {};
    const called = new Promise<void>((resolve) => (entered = resolve));
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => (release = resolve));
    const owner = await createEngine({
      store,
      definitions: [charge],
      agents: [defineAgent({ id: 'payments-1', capabilities: ['payments'], handlers: { charge: async () => { entered(); await gate; throw new Error('declined'); } } })],
    });
    const watcher = await createEngine({ store, definitions: [ship] });
    try {
      const { workflowId } = await owner.start('charge', {});
      await called;
      const waited = watcher.wait(workflowId);
      release();
      const ended = await settlesWithin(waited, { what: "the watcher's wait to see the owner end the workflow" });
      expect(['failed', 'compensated']).toContain(ended.status);
      expect((await watcher.wait(workflowId)).status).toBe(ended.status);
    } finally {
      await watcher.stop();
      await owner.stop();
      await store.close();
    }
  });
});
