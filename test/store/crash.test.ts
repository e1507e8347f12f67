/** Kill a writer with SIGKILL mid-stream: every append it had acknowledged must be read back. */
import { createInterface } from 'node:readline';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SqliteEventStore } from '../../src/store/sqlite-store.js';
import { startWorker } from './child-process.js';
import { collect } from './contract/helpers.js';
import { tempStoreFile } from './temp-store.js';

describe('sqlite: crash safety', () => {
  let path: string;
  let remove: () => Promise<void>;
  beforeEach(() => {
    ({ path, remove } = tempStoreFile());
  });
  afterEach(async () => remove());

  it('reads back every acknowledged append after the writer is killed', async () => {
    const child = startWorker('forever', path, 'crash');
    const acknowledged = new Map<bigint, string>();
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
    for await (const line of createInterface({ input: child.stdout! })) {
      const [, revision, id] = line.split(' ');
      acknowledged.set(BigInt(revision!), id!);
      if (acknowledged.size === 400) child.kill('SIGKILL');
    }
    expect(await exited).toBe('SIGKILL');

    const store = SqliteEventStore.open(path);
    try {
      const stored = new Map((await collect(() => store.readStream('crash'))).map((one) => [one.revision, one.id]));
      expect(stored.size).toBeGreaterThanOrEqual(acknowledged.size);
      for (const [revision, id] of acknowledged) expect(stored.get(revision)).toBe(id);
    } finally {
      await store.close();
    }
  });
});
