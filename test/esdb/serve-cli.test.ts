/**
 * `cadenza store serve` end to end: the command prints its ready line, the adapter works through it,
 * and SIGTERM stops it cleanly. It refuses to start exposed (beyond loopback without credentials,
 * credentials without TLS) unless `--insecure` says so, and takes the password from a file or the
 * environment so that it is not in the process list.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AccessDeniedError, EventStoreDBClient, jsonEvent } from '@eventstore/db-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openEsdbStore } from '../../src/store/esdb.js';
import { selfSignedCertificate } from './support.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

interface Served {
  readonly child: ChildProcess;
  /** The JSON ready line, or the exit code and stderr when the command ended without serving. */
  readonly outcome: { ready: { connectionString: string; address: string } } | { code: number | null };
  stderr(): string;
  /** SIGTERM, then the exit code and everything it wrote on stderr. */
  stop(): Promise<{ code: number | null; stderr: string }>;
}

async function serve(args: string[], env: Record<string, string> = {}): Promise<Served> {
  const { CADENZA_STORE_PASSWORD: _inherited, ...inherited } = process.env;
  const child = spawn(process.execPath, ['src/cli/bin.js', '--json', 'store', 'serve', '--memory', '--port', '0', ...args], {
    cwd: root, stdio: ['ignore', 'pipe', 'pipe'], env: { ...inherited, ...env },
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = once(child, 'exit').then(([code]) => ({ code: code as number | null }));
  const outcome = await Promise.race([
    once(child.stdout!, 'data').then(([chunk]) => ({ ready: JSON.parse(String(chunk).split('\n')[0] ?? '') as { connectionString: string; address: string } })),
    exited,
  ]);
  return {
    child,
    outcome,
    stderr: () => stderr,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const { code } = await exited;
      return { code, stderr };
    },
  };
}

function readyOf(served: Served): { connectionString: string; address: string } {
  if (!('ready' in served.outcome)) throw new Error(`store serve exited (${String(served.outcome.code)}) before it was ready: ${served.stderr()}`);
  return served.outcome.ready;
}

describe('cadenza store serve', () => {
  let directory: string;
  let tls: { certFile: string; keyFile: string };

  beforeAll(() => {
    directory = mkdtempSync(join(tmpdir(), 'cadenza-serve-'));
    tls = selfSignedCertificate(directory);
  });
  afterAll(() => rmSync(directory, { recursive: true, force: true }));

  it('serves a memory store over the EventStoreDB protocol until SIGTERM', async () => {
    const served = await serve([]);
    try {
      const store = await openEsdbStore(readyOf(served).connectionString);
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
      expect(await served.stop()).toEqual({ code: 0, stderr: '' });
    }
  });

  it('refuses to listen beyond loopback without credentials, unless --insecure', async () => {
    const refused = await serve(['--host', '0.0.0.0']);
    expect(refused.outcome).toEqual({ code: 2 });
    expect(refused.stderr()).toMatch(/^cadenza: Refusing to start: serving on 0\.0\.0\.0 without credentials lets anyone who can reach this host read and write the store .*--insecure/);
    expect(refused.stderr().trim().split('\n')).toHaveLength(1);

    const insecure = await serve(['--host', '0.0.0.0', '--insecure']);
    const address = readyOf(insecure).address;
    const stopped = await insecure.stop();
    expect(address).toMatch(/^0\.0\.0\.0:\d+$/);
    expect(stopped.code).toBe(0);
    expect(stopped.stderr).toMatch(/^cadenza: warning \(--insecure\): serving on 0\.0\.0\.0 without credentials/);
  });

  it('refuses credentials without TLS (clients would never send them), unless --insecure', async () => {
    const refused = await serve(['--username', 'admin'], { CADENZA_STORE_PASSWORD: 'changeit' });
    expect(refused.outcome).toEqual({ code: 2 });
    expect(refused.stderr()).toMatch(/^cadenza: Refusing to start: credentials without TLS cannot be used: EventStoreDB clients send them only over TLS/);
    const insecure = await serve(['--username', 'admin', '--insecure'], { CADENZA_STORE_PASSWORD: 'changeit' });
    readyOf(insecure);
    const stopped = await insecure.stop();
    expect(stopped.code).toBe(0);
    expect(stopped.stderr).toMatch(/warning \(--insecure\): credentials without TLS/);
  });

  it.each([
    ['a password file', (file: string) => ({ args: ['--password-file', file], env: {} })],
    ['CADENZA_STORE_PASSWORD', () => ({ args: [], env: { CADENZA_STORE_PASSWORD: 'from-the-environment' } })],
  ])('takes the password from %s, keeps it out of the process list, and requires it', async (_source, given) => {
    const secretFile = join(directory, 'password');
    writeFileSync(secretFile, 'from-the-environment\n', { mode: 0o600 });
    const { args, env } = given(secretFile);
    const served = await serve(['--host', '0.0.0.0', '--username', 'admin', '--tls-cert', tls.certFile, '--tls-key', tls.keyFile, ...args], env);
    try {
      const { address } = readyOf(served);
      // What `ps` shows: the command line holds no password.
      expect(readFileSync(`/proc/${served.child.pid}/cmdline`, 'utf8')).not.toContain('from-the-environment');
      const base = `127.0.0.1:${address.split(':').at(-1)}?tls=true&tlsCAFile=${encodeURIComponent(tls.certFile)}`;
      const event = () => jsonEvent({ type: 'Checked', data: {} });
      const authorised = EventStoreDBClient.connectionString(`esdb://admin:from-the-environment@${base}`);
      const anonymous = EventStoreDBClient.connectionString(`esdb://${base}`);
      try {
        expect((await authorised.appendToStream(`secret-${randomUUID()}`, event())).nextExpectedRevision).toBe(0n);
        await expect(anonymous.appendToStream(`secret-${randomUUID()}`, event())).rejects.toBeInstanceOf(AccessDeniedError);
      } finally {
        await authorised.dispose();
        await anonymous.dispose();
      }
    } finally {
      expect(await served.stop()).toEqual({ code: 0, stderr: '' });
    }
  });

  it('refuses a username without a password, and a password given twice', async () => {
    const noPassword = await serve(['--username', 'admin', '--tls-cert', tls.certFile, '--tls-key', tls.keyFile]);
    expect(noPassword.outcome).toEqual({ code: 2 });
    expect(noPassword.stderr()).toMatch(/^cadenza: --username needs a password: --password-file <file>, CADENZA_STORE_PASSWORD, or --password\n$/);
    const twice = await serve(['--username', 'admin', '--password', 'a', '--password-file', join(directory, 'password')]);
    expect(twice.outcome).toEqual({ code: 2 });
    expect(twice.stderr()).toMatch(/^cadenza: Give the password one way/);
  });
});
