/**
 * The token and the bind rule: with a token every request but /healthz needs it (missing and wrong
 * are 401 and change nothing), and `cadenza serve` refuses a non-loopback bind without one (a real
 * process: exit 2, one line, nothing served).
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiConfigError } from '../../src/api/auth.js';
import { buildApiServer } from '../../src/api/server.js';
import type { ApiApp } from '../../src/api/app.js';
import { orderFixture, streamEvents, type Fixture } from './support.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const token = 'a-long-enough-test-token-1234';

let fixture: Fixture;
let app: ApiApp;

beforeAll(async () => {
  fixture = await orderFixture();
  ({ app } = await buildApiServer({ store: fixture.store, token, host: '0.0.0.0' }));
  fixture.switches.shipFails = true;
  await fixture.engine.start('pausing-order', { amount: 1 }, { workflowId: 'paused' });
  await fixture.engine.wait('paused', { orPaused: true });
});

afterAll(async () => {
  await app?.close();
  await fixture?.close();
});

describe('bearer token', () => {
  it('answers 401 without the token or with a wrong one, and writes nothing', async () => {
    const before = await streamEvents(fixture.store, 'paused');
    const missing = await app.inject({ method: 'POST', url: '/api/v1/workflows/paused/cancel', payload: {} });
    expect(missing.statusCode).toBe(401);
    expect(missing.headers['content-type']).toContain('application/problem+json');
    expect(missing.headers['www-authenticate']).toContain('Bearer');
    const wrong = await app.inject({ method: 'POST', url: '/api/v1/workflows/paused/cancel', payload: {}, headers: { authorization: `Bearer ${token}x` } });
    expect(wrong.statusCode).toBe(401);
    expect((await app.inject({ method: 'GET', url: '/metrics' })).statusCode).toBe(401);
    expect((await app.inject({ method: 'GET', url: '/api/v1/openapi.json' })).statusCode).toBe(401);
    expect(await streamEvents(fixture.store, 'paused')).toHaveLength(before.length);
  });

  it('serves a request with the right token, and /healthz without one', async () => {
    const right = await app.inject({ method: 'GET', url: '/api/v1/workflows/paused', headers: { authorization: `Bearer ${token}` } });
    expect(right.statusCode).toBe(200);
    expect(right.json()).toMatchObject({ workflowId: 'paused', status: 'paused' });
    expect((await app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
  });

  it('refuses to build a server on a non-loopback address without a token', async () => {
    await expect(buildApiServer({ store: fixture.store, host: '0.0.0.0' })).rejects.toThrow(ApiConfigError);
    await expect(buildApiServer({ store: fixture.store, host: '0.0.0.0' })).rejects.toThrow(/needs --token-file or CADENZA_API_TOKEN/);
  });
});

describe('cadenza serve', () => {
  it('refuses a non-loopback bind without a token: exit 2, one line, no stack trace', async () => {
    const { CADENZA_API_TOKEN: _inherited, ...env } = process.env;
    const child = spawn(process.execPath, ['src/cli/bin.js', '--store', 'memory:', 'serve', '--http', '0.0.0.0:0'], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const [code] = (await once(child, 'exit')) as [number | null];
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(stderr).toMatch(/refusing to serve the API on 0\.0\.0\.0 without a token/);
    expect(stderr).not.toMatch(/\bat .*\.ts:\d+/);
  });

  it('serves on loopback and answers with the token from CADENZA_API_TOKEN, then stops on SIGTERM', async () => {
    const child = spawn(process.execPath, ['src/cli/bin.js', '--json', '--store', 'memory:', 'serve', '--http', '127.0.0.1:0'], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, CADENZA_API_TOKEN: token },
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = once(child, 'exit');
    const ready = await Promise.race([
      once(child.stdout, 'data').then(([chunk]) => JSON.parse(String(chunk).split('\n')[0]!) as { ready: boolean; url: string; auth: boolean }),
      exited.then(([code]) => {
        throw new Error(`serve exited with ${String(code)} before it was ready: ${stderr}`);
      }),
    ]);
    try {
      // operations.md: one ready line, `{"ready":true,"url":...,"auth":...}`, on loopback by default.
      expect(ready).toEqual({ ready: true, url: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/), auth: true });
      expect((await fetch(`${ready.url}/api/v1/workflows`)).status).toBe(401);
      const listed = await fetch(`${ready.url}/api/v1/workflows`, { headers: { authorization: `Bearer ${token}` } });
      expect(listed.status).toBe(200);
      expect(await listed.json()).toMatchObject({ total: 0, workflows: [] });
    } finally {
      child.kill('SIGTERM');
    }
    const [code] = (await exited) as [number | null];
    expect(code).toBe(0);
  });
});
