/**
 * Power-cut durability (docs/store.md): with `durability: 'full'` the WAL is fsynced before a commit
 * returns. A SIGKILL cannot tell a missing fsync (the page cache survives it), so this watches the
 * system calls instead: a child process appends events one at a time under strace, marking every
 * acknowledgement, and every mark must come after an fsync of the WAL that followed the previous one.
 * Linux only (strace); .ci/run installs strace where it is missing.
 */
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { tempStoreFile } from './temp-store.js';

const fixture = fileURLToPath(new URL('./fixtures/acked-appends.ts', import.meta.url));
const root = fileURLToPath(new URL('../..', import.meta.url));
const APPENDS = 20;

/** Per acknowledged append, in order: how many fsyncs of the WAL happened since the previous acknowledgement. */
async function walSyncsPerAck(durability: 'full' | 'normal' | 'served', writer: 'here' | 'thread'): Promise<number[]> {
  const file = tempStoreFile();
  const trace = join(file.path, '..', 'strace.txt');
  try {
    const child = spawn(
      'strace',
      ['-f', '-y', '--seccomp-bpf', '-e', 'trace=fsync,fdatasync,access,faccessat,faccessat2', '-o', trace,
        process.execPath, '--import', 'tsx', fixture, file.path, durability, writer, String(APPENDS)],
      { cwd: root, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise<number | null>((resolve, reject) => {
      child.on('error', reject);
      child.on('exit', resolve);
    });
    if (code !== 0) throw new Error(`the appending child under strace exited with ${code}: ${stderr}`);
    const counts: number[] = [];
    let syncs: number | undefined;
    for (const line of readFileSync(trace, 'utf8').split('\n')) {
      // "1234 fdatasync(27</tmp/.../events.db-wal>) = 0", or its "<unfinished ...>" half from another thread.
      if (/\bf(?:data)?sync\(\d+<[^>]*-wal>/.test(line) && syncs !== undefined) syncs++;
      const mark = /"\/cadenza-ack-(\w+)"/.exec(line)?.[1];
      if (mark === undefined) continue;
      if (mark !== 'start') counts.push(syncs ?? 0);
      syncs = 0;
    }
    return counts;
  } finally {
    await file.remove();
  }
}

const straceMissing = process.platform === 'linux' && spawnSync('strace', ['-V']).error !== undefined;

if (process.platform === 'linux') {
  describe('sqlite: durability full survives a power cut', () => {
    it.each(['here', 'thread'] as const)('fsyncs the WAL before acknowledging each commit (written %s)', async (writer) => {
      if (straceMissing) throw new Error('strace is not installed: apt-get install -y strace (.ci/run does it)');
      const perAck = await walSyncsPerAck('full', writer);
      expect(perAck).toHaveLength(APPENDS);
      expect(perAck.filter((syncs) => syncs === 0)).toEqual([]);
    });

    it('is what `cadenza store serve` opens a file with when nothing is said (eventstoredb.md: "full by default")', async () => {
      if (straceMissing) throw new Error('strace is not installed: apt-get install -y strace (.ci/run does it)');
      const perAck = await walSyncsPerAck('served', 'thread');
      expect(perAck).toHaveLength(APPENDS);
      expect(perAck.filter((syncs) => syncs === 0)).toEqual([]);
    });

    it('the same probe sees durability normal acknowledge commits that no fsync preceded', async () => {
      if (straceMissing) throw new Error('strace is not installed: apt-get install -y strace (.ci/run does it)');
      // The control: synchronous=NORMAL in WAL mode fsyncs at checkpoints only, so the probe, which
      // must fail such a store, finds acknowledgements without a WAL fsync before them.
      const perAck = await walSyncsPerAck('normal', 'here');
      expect(perAck).toHaveLength(APPENDS);
      expect(perAck.filter((syncs) => syncs === 0).length).toBeGreaterThan(APPENDS / 2);
    });
  });
}
