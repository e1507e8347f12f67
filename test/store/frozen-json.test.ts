/**
 * Event data that holds a deeply frozen object (the engine's WorkflowStarted holds the frozen
 * definition) is serialised with that object's JSON text cached by identity. The stored text must
 * be exactly what JSON.stringify gives, and nothing that could change may be cached.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../src/store/errors.js';
import { openStore } from '../../src/store/open.js';
import type { EventStore, Json } from '../../src/store/port.js';
import { collect, event } from './contract/helpers.js';

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

let store: EventStore;
afterEach(async () => {
  await store.close();
});

async function storedData(stream: string): Promise<unknown[]> {
  return (await collect(() => store.readStream(stream))).map((one) => one.data);
}

describe('serialising data that holds frozen objects', () => {
  it('stores exactly what JSON.stringify gives, every time the same frozen object is appended', async () => {
    store = await openStore('memory:');
    const definition = deepFreeze({ name: 'frozen', steps: [{ id: 'a', retry: { max: 3, factor: 1.5 } }, { id: 'b', dependsOn: ['a'] }], 10: 'numeric key' });
    for (let i = 0; i < 3; i++) await store.append('frozen-1', [event('Started', { workflowId: `w-${i}`, definition, input: { i }, note: 'ünï' } as unknown as Json)]);
    const stored = await storedData('frozen-1');
    expect(stored).toEqual([0, 1, 2].map((i) => ({ workflowId: `w-${i}`, definition, input: { i }, note: 'ünï' })));
    expect(JSON.stringify(stored[2])).toBe(JSON.stringify({ workflowId: 'w-2', definition, input: { i: 2 }, note: 'ünï' }));
  });

  it('does not cache a frozen object with a mutable child: a later change is stored', async () => {
    store = await openStore('memory:');
    const child = { value: 1 };
    const shallow = Object.freeze({ child });
    await store.append('frozen-2', [event('First', { shallow } as unknown as Json)]);
    child.value = 2;
    await store.append('frozen-2', [event('Second', { shallow } as unknown as Json)]);
    expect(await storedData('frozen-2')).toEqual([{ shallow: { child: { value: 1 } } }, { shallow: { child: { value: 2 } } }]);
  });

  it('does not cache a frozen object with a getter: what it answers later is stored', async () => {
    store = await openStore('memory:');
    let price = 1;
    const quote = Object.freeze({
      get price() {
        return price;
      },
    });
    await store.append('frozen-4', [event('First', { quote } as unknown as Json)]);
    price = 2;
    await store.append('frozen-4', [event('Second', { quote } as unknown as Json)]);
    expect(await storedData('frozen-4')).toEqual([{ quote: { price: 1 } }, { quote: { price: 2 } }]);
  });

  it('refuses a frozen object that is not JSON, naming the field, and writes nothing', async () => {
    store = await openStore('memory:');
    const bad = deepFreeze({ when: new Date(0) });
    await expect(store.append('frozen-3', [event('Bad', { bad } as unknown as Json)])).rejects.toThrow(InvalidArgumentError);
    await expect(store.append('frozen-3', [event('Bad', { bad } as unknown as Json)])).rejects.toThrow(/events\[0\]\.data\.bad\.when/);
    await expect(storedData('frozen-3')).rejects.toThrow(/not found/);
  });
});
