/**
 * Crash: a consumer process of a persistent subscription is SIGKILLed while it holds unacked events;
 * the server sees its call end, and those events go to another consumer. None is lost.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openEsdbStore } from '../../src/store/esdb.js';
import type { EventStore, PersistentEvent } from '../../src/store/port.js';
import { startEmbedded, type Embedded } from './support.js';

const consumerScript = fileURLToPath(new URL('./fixtures/persistent-consumer.ts', import.meta.url));
const root = fileURLToPath(new URL('../..', import.meta.url));
const EVENTS = 40;

describe('persistent subscriptions: a consumer process killed mid-batch', () => {
  let embedded: Embedded;
  let store: EventStore;
  beforeEach(async () => {
    embedded = await startEmbedded();
    store = await openEsdbStore(embedded.connectionString);
  });
  afterEach(async () => {
    await store.close();
    await embedded.stop();
  });

  it('sends what the killed consumer held to another consumer', async () => {
    const stream = `crash-${randomUUID().slice(0, 8)}`;
    await store.append(stream, Array.from({ length: EVENTS }, (_, index) => ({ id: randomUUID(), type: 'Work', data: { index } })));
    // A long message timeout: what comes back must come back because the consumer died, not because it timed out.
    await store.persistentSubscriptions.create(stream, 'workers', { startFrom: 'start', messageTimeoutMs: 600_000 });

    const child = spawn(process.execPath, ['--import', 'tsx', consumerScript, embedded.connectionString, stream, 'workers', '10'], {
      cwd: root, stdio: ['ignore', 'pipe', 'inherit'],
    });
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
    // If the consumer never fills its buffer, stop waiting (the assertion below then says so).
    const guard = setTimeout(() => child.kill('SIGKILL'), 15_000);
    const acked = new Set<bigint>();
    const held = new Set<bigint>();
    for await (const line of createInterface({ input: child.stdout! })) {
      const [what, revision] = line.split(' ');
      (what === 'acked' ? acked : held).add(BigInt(revision!));
      // Mid-batch: its buffer of 10 is full of events it will never ack.
      if (held.size === 10) child.kill('SIGKILL');
    }
    clearTimeout(guard);
    expect(await exited).toBe('SIGKILL');
    expect(held.size, 'events the killed consumer held unacked').toBe(10);

    const survivor = store.persistentSubscriptions.connect(stream, 'workers', { bufferSize: 50 });
    const received: PersistentEvent[] = [];
    const seen = new Set<bigint>(acked);
    const deadline = setTimeout(() => void survivor.unsubscribe(), 15_000);
    for await (const item of survivor) {
      received.push(item);
      seen.add(item.event.revision);
      await survivor.ack(item.event.id);
      if (seen.size === EVENTS) break;
    }
    clearTimeout(deadline);

    const all = Array.from({ length: EVENTS }, (_, index) => BigInt(index));
    expect([...seen].sort((a, b) => Number(a - b)), 'every event was acked by the killed consumer or delivered to the survivor').toEqual(all);
    for (const revision of held) {
      expect(received.find((item) => item.event.revision === revision)?.retryCount, `held event ${revision} redelivered as a retry`).toBe(1);
    }
  });
});
