/**
 * docs/store.md, "The writer thread": "An idle writer thread does not keep the process alive". A
 * real child process writes through the thread, then leaves the store open: it must exit by itself,
 * with its append committed.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/open.js';
import { collect } from './contract/helpers.js';
import { tempStoreFile } from './temp-store.js';
import { settlesWithin } from '../support/wait-for.js';

const fixture = fileURLToPath(new URL('./fixtures/idle-writer.ts', import.meta.url));
const root = fileURLToPath(new URL('../..', import.meta.url));

describe('the writer thread', () => {
  it('does not keep the process alive once idle', async () => {
    const file = tempStoreFile();
    const child = spawn(process.execPath, ['--import', 'tsx', fixture, file.path], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      const code = await settlesWithin(exited, { what: 'the process to end by itself with its writer thread idle', timeoutMs: 30_000 });
      expect(code, stderr).toBe(0);
      expect(JSON.parse(stdout)).toEqual({ revision: '0', transactions: 1 });
      const store = await openStore(`sqlite:${file.path}`);
      expect((await collect(() => store.readStream('idle'))).map((e) => e.type)).toEqual(['Appended']);
      await store.close();
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      await file.remove();
    }
  }, 60_000);
});
