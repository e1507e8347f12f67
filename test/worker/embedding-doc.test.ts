/**
 * docs/embedding.md, run: its examples cannot drift from what works. Blocks marked
 * `file=sagas/orders/...` must be the repository's files; the other `file=` blocks are written into
 * a scratch project beside them and run with node; `sh session` blocks are run line by line in that
 * project (`npx cadenza` is this checkout's command, a line ending in `&` a worker kept running until
 * the block ends, then stopped with SIGTERM and expected to exit 0).
 */
import { execFile, spawn } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bin, root, userProject, waitFor } from './support.js';

interface Block {
  readonly language: string;
  readonly file?: string;
  readonly session: boolean;
  readonly text: string;
}

const doc = readFileSync(join(root, 'docs/embedding.md'), 'utf8');
const blocks: Block[] = [...doc.matchAll(/^```(\w+)([^\n]*)\n([\s\S]*?)^```$/gm)].map(([, language = '', info = '', text = '']) => {
  const file = /\bfile=(\S+)/.exec(info)?.[1];
  return { language, session: /\bsession\b/.test(info), text, ...(file ? { file } : {}) };
});
let project = '';

beforeAll(() => {
  project = userProject('cadenza-doc-');
  for (const block of blocks) if (block.file) writeFileSync(join(project, basename(block.file)), block.text);
});
afterAll(() => rmSync(project, { recursive: true, force: true }));

function sh(line: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('sh', ['-c', line], { cwd: project, env: cleanEnv() }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
    });
  });
}

function cleanEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.CADENZA_STORE;
  return env;
}

const asCommand = (line: string) => line.replace(/\bnpx cadenza\b/, `node ${bin}`);

describe('docs/embedding.md', () => {
  it('shows the orders saga exactly as it is in sagas/orders', () => {
    const shown = blocks.filter((block) => block.file?.startsWith('sagas/'));
    expect(shown.map((block) => block.file)).toEqual(['sagas/orders/order-fulfilment.json', 'sagas/orders/agents.mjs', 'sagas/orders/cadenza.config.mjs']);
    for (const block of shown) expect(block.text, block.file).toBe(readFileSync(join(root, block.file!), 'utf8'));
  });

  it('builds the same definition with the builder as the JSON file', async () => {
    const result = await sh('node --import tsx builder.mjs');
    expect(result.stderr).toBe('');
    expect(result.stdout.trim()).toBe('same definition: true');
  }, 60_000);

  it('runs the saga in-process: one order ships, the undeliverable one is rolled back', async () => {
    const result = await sh('node --import tsx embed.mjs');
    expect(result.code, result.stderr).toBe(0);
    const lines = result.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^[\w-]+: completed; compensated: none$/);
    expect(lines[1]).toMatch(/^[\w-]+: compensated; compensated: (charge-payment, reserve-stock|reserve-stock, charge-payment)$/);
  }, 60_000);

  const sessions = blocks.filter((block) => block.session);
  it.each(sessions.map((block, index) => [index + 1, block] as const))('runs shell session %i', async (_index, block) => {
    const workers: { child: ReturnType<typeof spawn>; log: () => string; exited: Promise<number | null> }[] = [];
    try {
      for (const line of block.text.split('\n').map((l) => l.trim()).filter(Boolean)) {
        if (line.endsWith('&')) {
          // `exec` so that the signal reaches the worker itself, not a shell around it.
          const command = asCommand(line.slice(0, -1).trim()).replace(`node ${bin}`, `exec node ${bin}`);
          const child = spawn('sh', ['-c', command], { cwd: project, env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
          let log = '';
          child.stderr.on('data', (chunk: Buffer) => (log += chunk.toString()));
          const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
          workers.push({ child, log: () => log, exited });
          await waitFor(() => log.includes('"worker started"') || child.exitCode !== null, `${line} to start`);
          expect(child.exitCode, log).toBeNull();
        } else {
          const result = await sh(asCommand(line));
          expect(result.code, `${line}\n${result.stderr}`).toBe(0);
        }
      }
      for (const worker of workers) worker.child.kill('SIGTERM');
      for (const worker of workers) expect(await worker.exited, worker.log()).toBe(0);
    } finally {
      for (const worker of workers) if (worker.child.exitCode === null) worker.child.kill('SIGKILL');
    }
  }, 180_000);
});
