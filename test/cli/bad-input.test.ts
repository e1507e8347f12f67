/**
 * Bad input on the command line, as a user types it: invalid workflow ids (exit 2, the id rule in
 * words, the id shown escaped), store paths that cannot be opened (the path and the reason), and a
 * reader that goes away (`cadenza history <id> | head`: exit 0, quietly).
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bin, cadenza, collect, inPrivateMount } from './support.js';

let dir = '';
let store = '';
const idRule = 'use 1-200 letters, digits, ".", "_", ":" or "-", starting with a letter or digit';

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'cadenza-bad-input-'));
  store = `sqlite:${join(dir, 'store.db')}`;
  const ran = await cadenza('--store', store, 'run', 'trading-pipeline', '--input', '{"symbol":"ACME","quantity":5,"account":"a-1"}', '--latency', '0', '--workflow-id', 'known-1');
  expect(ran.code, ran.stderr).toBe(0);
}, 60_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('workflow ids on the command line', () => {
  it('an invalid id is bad input: exit 2 and one line in the id rule words, for every command that takes one', async () => {
    const results = await Promise.all([
      cadenza('--store', store, 'run', 'trading-pipeline', '--input', '{"symbol":"ACME","quantity":5,"account":"a-1"}', '--workflow-id', 'bad id!'),
      cadenza('--store', store, 'status', 'bad id!'),
      cadenza('--store', store, 'history', 'bad id!'),
      cadenza('--store', store, 'cancel', 'bad id!', '--no-wait'),
    ]);
    for (const result of results) {
      expect(result).toEqual({ code: 2, stdout: '', stderr: `cadenza: Invalid workflow id "bad id!": ${idRule}\n` });
    }
    // Nothing was started under it, or under anything else.
    const list = await cadenza('--store', store, 'list', '--json');
    expect((JSON.parse(list.stdout) as { workflows: { workflowId: string }[] }).workflows.map((w) => w.workflowId)).toEqual(['known-1']);
  }, 60_000);

  it('a 5,000-character id is too long, said with the limit, not as a stream name', async () => {
    const long = 'x'.repeat(5_000);
    const result = await cadenza('--store', store, 'status', long);
    expect(result).toEqual({ code: 2, stdout: '', stderr: `cadenza: Invalid workflow id "${'x'.repeat(40)}…": it is 5000 characters long, the maximum is 200\n` });
  }, 30_000);

  it('an id with a newline is shown escaped on one line, not cut at the newline', async () => {
    const result = await cadenza('--store', store, 'status', 'ab\ncd');
    expect(result).toEqual({ code: 2, stdout: '', stderr: `cadenza: Invalid workflow id "ab\\ncd": ${idRule}\n` });
  }, 30_000);
});

describe('a store path that cannot be opened', () => {
  it('names the path and the reason: a directory, a path under a regular file', async () => {
    const folder = join(dir, 'a-folder');
    mkdirSync(folder);
    const file = join(dir, 'a-file');
    writeFileSync(file, 'not a folder');
    const [directory, under, deeper] = await Promise.all([
      cadenza('--store', `sqlite:${folder}`, 'status', 'known-1'),
      cadenza('--store', `sqlite:${file}/x.db`, 'status', 'known-1'),
      cadenza('--store', `sqlite:${file}/sub/x.db`, 'status', 'known-1'),
    ]);
    expect(directory).toEqual({ code: 1, stdout: '', stderr: `cadenza: Cannot open the SQLite store ${folder}: it is a directory, not a file\n` });
    expect(under).toEqual({ code: 1, stdout: '', stderr: `cadenza: Cannot open the SQLite store ${file}/x.db: ${file} is a file, not a directory\n` });
    expect(deeper).toEqual({ code: 1, stdout: '', stderr: `cadenza: Cannot open the SQLite store ${file}/sub/x.db: ${file} is a file, not a directory\n` });
  }, 30_000);

  it('names the path and the reason: a read-only folder (a read-only tmpfs, mounted for this process only)', async () => {
    const readOnly = join(dir, 'read-only');
    mkdirSync(readOnly);
    const result = await inPrivateMount('mount -t tmpfs -o ro,size=1m tmpfs "$RO" && exec "$NODE" "$CADENZA" --store "sqlite:$RO/x.db" status known-1', { env: { RO: readOnly } });
    expect(result).toEqual({ code: 1, stdout: '', stderr: `cadenza: Cannot open the SQLite store ${readOnly}/x.db: cannot create it: ${readOnly} is not writable (read-only file system)\n` });
  }, 30_000);
});

describe('a reader that goes away', () => {
  it.each([['history', 'known-1'], ['history', 'known-1', '--json'], ['audit']])('`cadenza %s ... | head` ends quietly with exit 0', async (...args) => {
    const child = spawn(process.execPath, [bin, '--store', store, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    // The reading end closes before the command writes a byte: every write meets a broken pipe.
    child.stdout.destroy();
    const result = await collect(child);
    expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: '' });
  }, 30_000);
});
