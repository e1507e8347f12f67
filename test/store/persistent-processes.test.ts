/**
 * Persistent subscriptions on one store file from several processes: a group runs in the process that
 * holds its lease; a consumer in another process waits, and takes the group over from its checkpoint
 * when the holder dies (SIGKILL), so the events the dead one held are sent again and none is lost.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { PersistentEvent } from '../../src/store/port.js';
import { SqliteEventStore } from '../../src/store/sqlite-store.js';
import { tempStoreFile } from './temp-store.js';

const worker = fileURLToPath(new URL('./fixtures/persistent-worker.ts', import.meta.url));
const root = fileURLToPath(new URL('../..', import.meta.url));
const EVENTS = 40;
const LEASE_MS = 500;

describe('sqlite: persistent subscriptions across processes', () => {
  let path: string;
  let remove: () => Promise<void>;
  beforeEach(() => {
    ({ path, remove } = tempStoreFile());
  });
  afterEach(async () => remove());

  it('one process dispatches a group at a time; a standby takes over when the holder is killed', async () => {
    const store = SqliteEventStore.open(path, { persistentLeaseMs: LEASE_MS });
    try {
      await store.append('work', Array.from({ length: EVENTS }, (_, index) => ({ id: randomUUID(), type: 'Work', data: { index } })));
      await store.persistentSubscriptions.create('work', 'workers', { startFrom: 'start', messageTimeoutMs: 600_000 });

      const child = spawn(process.execPath, ['--import', 'tsx', worker, path, 'work', 'workers', String(LEASE_MS)], {
        cwd: root, stdio: ['ignore', 'pipe', 'inherit'],
      });
      const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
      const guard = setTimeout(() => child.kill('SIGKILL'), 15_000);
      const acked = new Set<bigint>();
      const held = new Set<bigint>();
      const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
      const readChild = async (until: () => boolean) => {
        while (!until()) {
          const next = await lines.next();
          if (next.done) return;
          const [what, revision] = next.value.split(' ');
          (what === 'acked' ? acked : held).add(BigInt(revision!));
        }
      };
      // The child holds the lease once it has sent its first event.
      await readChild(() => acked.size + held.size > 0);

      // This process's consumer waits for the lease meanwhile: it gets nothing while the child lives.
      const standby = store.persistentSubscriptions.connect('work', 'workers', { bufferSize: 50 });
      const received: PersistentEvent[] = [];
      let receivedBeforeKill = -1;
      const draining = (async () => {
        for await (const item of standby) {
          received.push(item);
          await standby.ack(item.event.id);
          if (new Set([...acked, ...received.map((one) => one.event.revision)]).size === EVENTS) return;
        }
      })();
      await readChild(() => held.size === 10);
      // Several lease periods for a wrongly shared group to show itself.
      await new Promise((resolve) => setTimeout(resolve, LEASE_MS * 3));
      receivedBeforeKill = received.length;
      child.kill('SIGKILL');
      clearTimeout(guard);
      expect(await exited).toBe('SIGKILL');
      expect(held.size, 'events the killed process held unacked').toBe(10);
      expect(receivedBeforeKill, 'events the standby received while the holder lived').toBe(0);

      const deadline = setTimeout(() => void standby.unsubscribe(), 15_000);
      await draining;
      clearTimeout(deadline);
      const seen = new Set([...acked, ...received.map((item) => item.event.revision)]);
      expect(seen.size, 'events acked by the killed process or received by the standby').toBe(EVENTS);
      for (const revision of held) expect(received.some((item) => item.event.revision === revision), `held event ${revision}`).toBe(true);
      await standby.unsubscribe();
    } finally {
      await store.close();
    }
  });
});
