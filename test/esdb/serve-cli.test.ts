/**
 * `cadenza store serve` end to end: the command prints its ready line, the adapter works through it,
 * and SIGTERM stops it cleanly.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { openEsdbStore } from '../../src/store/esdb.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

describe('cadenza store serve', () => {
  it('serves a memory store over the EventStoreDB protocol until SIGTERM', async () => {
    const child = spawn(process.execPath, ['src/cli/bin.js', '--json', 'store', 'serve', '--memory', '--port', '0'], {
      cwd: root, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    try {
      const exitedEarly = once(child, 'exit').then(([code]) => {
        throw new Error(`store serve exited (${String(code)}) before it was ready: ${stderr}`);
      });
      exitedEarly.catch(() => undefined); // Only the race below cares; a normal exit later must not count as unhandled.
      const [firstChunk] = (await Promise.race([once(child.stdout, 'data'), exitedEarly])) as [Buffer];
      const ready = JSON.parse(firstChunk.toString().split('\n')[0] ?? '') as { ready: boolean; connectionString: string };
      expect(ready.ready).toBe(true);
      const store = await openEsdbStore(ready.connectionString);
      try {
        const stream = `served-${randomUUID()}`;
        await store.append(stream, [{ id: randomUUID(), type: 'Served', data: { ok: true } }], { expectedRevision: 'no_stream' });
        const read = [];
        for await (const event of store.readStream(stream)) read.push(event.type);
        expect(read).toEqual(['Served']);
      } finally {
        await store.close();
      }
    } finally {
      child.kill('SIGTERM');
      const [code] = (await once(child, 'exit')) as [number | null];
      expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    }
  });
});
