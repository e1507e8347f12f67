/**
 * https agents: a certificate made at test time with openssl (self-signed, for 127.0.0.1). A caller
 * that trusts it (NODE_EXTRA_CA_CERTS, Node's own way to add a private CA, so the caller runs as a
 * child process) reads the card and calls the agent; one that does not trust it gets a clear error.
 */
import { execFileSync, execFile } from 'node:child_process';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RemoteA2aAgent, serveAgent, type ServedAgent } from '../../../src/agents/a2a/index.js';
import { scratch } from './support.js';

const { dir, cleanup } = scratch('cadenza-a2a-tls-');
const cert = join(dir, 'cert.pem');
const key = join(dir, 'key.pem');
let agent: ServedAgent;

function hasOpenssl(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

beforeAll(async () => {
  if (!hasOpenssl()) throw new Error('openssl is needed to make a certificate for this test (apt-get install openssl)');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
  agent = await serveAgent({ name: 'secure', skills: ['secure'], tls: { key: readFileSync(key), cert: readFileSync(cert) }, handlers: { echo: (input) => ({ echoed: input }) } });
});

afterAll(async () => {
  await agent?.close();
  cleanup();
});

describe('A2A over https', () => {
  it('serves https, and a caller that trusts the certificate reads the card and calls the agent', async () => {
    expect(agent.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const script = `
      import { RemoteA2aAgent } from ${JSON.stringify(fileURLToPath(new URL('../../../src/agents/a2a/index.ts', import.meta.url)))};
      const remote = new RemoteA2aAgent({ id: 'secure', url: process.env.AGENT_URL });
      await remote.readCard();
      const result = await remote.transport.invoke({ workflowId: 'w', stepId: 's', attempt: 1, action: 'echo', input: { over: 'tls' }, idempotencyKey: 'w:s', deadline: Date.now() + 10000, kind: 'step' }, { signal: new AbortController().signal });
      process.stdout.write(JSON.stringify({ capabilities: remote.capabilities, result }));
    `;
    const stdout = await new Promise<string>((resolve, reject) => {
      execFile(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { env: { ...process.env, AGENT_URL: agent.url, NODE_EXTRA_CA_CERTS: cert } }, (error, out, err) => (error ? reject(new Error(`${error.message}\n${err}`)) : resolve(out)));
    });
    expect(JSON.parse(stdout)).toEqual({ capabilities: ['secure'], result: { ok: true, output: { echoed: { over: 'tls' } } } });
  });

  it('refuses, with one line naming the card URL, a certificate the caller does not trust', async () => {
    const remote = new RemoteA2aAgent({ id: 'secure', url: agent.url });
    await expect(remote.readCard()).rejects.toThrow(`agent "secure": cannot read its card at ${agent.url}/.well-known/agent-card.json: fetch failed (DEPTH_ZERO_SELF_SIGNED_CERT)`);
  });
});
