/**
 * `RemoteA2aAgent` (src/agents/a2a/remote-agent.ts) against cards served in this process:
 * docs/agents.md's "Discovery" (one capability per skill, the registration kept in line with the
 * card, a card that cannot be read leaving it as it was) and "Credentials" (on every request, the
 * card's included). remote-workflow.test.ts does the same through an engine with agents in child
 * processes.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentCardError, DEFAULT_CARD_REFRESH_MS, RemoteA2aAgent, serveAgent, type ServedAgent } from '../../../src/agents/a2a/index.js';
import { pino } from 'pino';
import type { Logger } from '../../../src/agents/logging.js';
import { waitFor } from '../../support/wait-for.js';
import { ManualClock, memoryStore, openRegistry } from '../support.js';

// A card server: each path its own card, every request's headers kept.
let server: Server;
let base = '';
const cards = new Map<string, unknown>();
const seen: { url: string; headers: IncomingHttpHeaders }[] = [];

function card(skills: string[], interfaces = [{ url: 'http://127.0.0.1:1/a2a', protocolBinding: 'JSONRPC', tenant: '', protocolVersion: '1.0' }]): object {
  return {
    name: 'c', description: 'a card', version: '1.0.0', supportedInterfaces: interfaces,
    capabilities: { streaming: false, pushNotifications: false, extensions: [] },
    securitySchemes: {}, securityRequirements: [], defaultInputModes: [], defaultOutputModes: [],
    skills: skills.map((id) => ({ id, name: id, description: id, tags: [], examples: [], inputModes: [], outputModes: [], securityRequirements: [] })),
    signatures: [],
  };
}

beforeAll(async () => {
  server = createServer((request, response) => {
    seen.push({ url: request.url ?? '', headers: request.headers });
    const found = cards.get((request.url ?? '').split('/')[1] ?? '');
    if (found === undefined) response.writeHead(404).end('no card here');
    else response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(found));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

/** A loopback port nothing listens on (any more). */
async function closedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

describe('RemoteA2aAgent: the card', () => {
  it('reads the card at <url>/.well-known/agent-card.json, with or without a trailing slash', async () => {
    cards.set('plain', card(['pay']));
    for (const url of [`${base}/plain`, `${base}/plain/`]) {
      seen.length = 0;
      const agent = new RemoteA2aAgent({ id: 'pay-1', url });
      expect((await agent.readCard()).name).toBe('c');
      expect(agent.card?.name).toBe('c');
      expect(seen.map((request) => request.url)).toEqual(['/plain/.well-known/agent-card.json']);
    }
  });

  it('gives one capability per skill id: sorted, each once, empty ids left out', async () => {
    cards.set('skills', card(['ship', 'pay', 'ship', '']));
    const agent = new RemoteA2aAgent({ id: 'multi', url: `${base}/skills` });
    expect(agent.capabilities).toEqual([]);
    await agent.readCard();
    expect(agent.capabilities).toEqual(['pay', 'ship']);
  });

  it('names the agent, the URL and the cause when the card cannot be read, or offers no JSON-RPC interface', async () => {
    const missing = new RemoteA2aAgent({ id: 'gone', url: `${base}/missing` });
    const error = await missing.readCard().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(AgentCardError);
    expect((error as Error).name).toBe('AgentCardError');
    // The SDK's own words after ours; no cause to name (HTTP answered).
    expect((error as Error).message).toMatch(new RegExp(`^agent "gone": cannot read its card at ${base}/missing/\\.well-known/agent-card\\.json: [^()]*404$`));
    expect(missing.card).toBeUndefined();

    const refused = new RemoteA2aAgent({ id: 'closed', url: `http://127.0.0.1:${await closedPort()}` });
    await expect(refused.readCard()).rejects.toThrow(/^agent "closed": cannot read its card at http:\/\/127\.0\.0\.1:\d+\/\.well-known\/agent-card\.json: fetch failed \(ECONNREFUSED\)$/);

    // One JSON-RPC interface among others is enough.
    cards.set('both', card(['pay'], [{ url: 'http://127.0.0.1:1/grpc', protocolBinding: 'GRPC', tenant: '', protocolVersion: '1.0' }, { url: 'http://127.0.0.1:1/a2a', protocolBinding: 'JSONRPC', tenant: '', protocolVersion: '1.0' }]));
    expect((await new RemoteA2aAgent({ id: 'both', url: `${base}/both` }).readCard()).name).toBe('c');

    cards.set('grpc-only', card(['pay'], [{ url: 'http://127.0.0.1:1/grpc', protocolBinding: 'GRPC', tenant: '', protocolVersion: '1.0' }]));
    const grpc = new RemoteA2aAgent({ id: 'grpc', url: `${base}/grpc-only` });
    await expect(grpc.readCard()).rejects.toThrow(new AgentCardError(`agent "grpc": the card at ${base}/grpc-only/.well-known/agent-card.json offers no JSON-RPC interface`));
    expect(grpc.card).toBeUndefined();
  });

  it('sends the token and the headers on every request, the card\'s included', async () => {
    cards.set('secured', card(['pay']));
    seen.length = 0;
    const agent = new RemoteA2aAgent({ id: 's', url: `${base}/secured`, token: 'a-long-enough-agent-token', headers: { 'x-api-key': 'k-1' } });
    await agent.readCard();
    expect(seen[0]?.headers).toMatchObject({ authorization: 'Bearer a-long-enough-agent-token', 'x-api-key': 'k-1' });
    seen.length = 0;
    await new RemoteA2aAgent({ id: 'h', url: `${base}/secured`, headers: { 'x-api-key': 'k-2' } }).readCard();
    expect(seen[0]?.headers).toMatchObject({ 'x-api-key': 'k-2' });
    expect(seen[0]?.headers).not.toHaveProperty('authorization');
  });
});

describe('RemoteA2aAgent: the registry definition', () => {
  it('is the agent\'s id, capabilities and transport, with weight and maxConcurrency only when given; none without a skill', async () => {
    cards.set('def', card(['pay']));
    const plain = new RemoteA2aAgent({ id: 'd1', url: `${base}/def` });
    expect(plain.definition()).toBeUndefined();
    await plain.readCard();
    expect(plain.definition()).toStrictEqual({ id: 'd1', capabilities: ['pay'], transport: plain.transport });
    const tuned = new RemoteA2aAgent({ id: 'd2', url: `${base}/def`, weight: 3, maxConcurrency: 2 });
    await tuned.readCard();
    expect(tuned.definition()).toStrictEqual({ id: 'd2', capabilities: ['pay'], transport: tuned.transport, weight: 3, maxConcurrency: 2 });
    cards.set('none', card([]));
    const idle = new RemoteA2aAgent({ id: 'd3', url: `${base}/none` });
    await idle.readCard();
    expect(idle.definition()).toBeUndefined();
  });

  it('discovers the definition once, or none when the card cannot be read', async () => {
    cards.set('disc', card(['pay']));
    const agent = new RemoteA2aAgent({ id: 'disc', url: `${base}/disc` });
    expect(await agent.discover()).toMatchObject({ id: 'disc', capabilities: ['pay'] });
    expect(await new RemoteA2aAgent({ id: 'nope', url: `${base}/nowhere` }).discover()).toBeUndefined();
  });
});

/** A logger whose lines land in `lines`, parsed. */
function capturing(): { logger: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  return { lines, logger: pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line) as Record<string, unknown>) }) };
}

describe('RemoteA2aAgent: the registration follows the card', () => {
  it('logs a card it cannot read (a warning naming the agent) and a card that changed (what it offers now and before)', async () => {
    const { logger, lines } = capturing();
    expect(await new RemoteA2aAgent({ id: 'l0', url: `${base}/absent` }).discover(logger)).toBeUndefined();
    expect(lines.at(-1)).toMatchObject({ level: 40, agentId: 'l0', msg: 'agent card not read; the agent is not registered yet', err: expect.stringContaining('cannot read its card') as unknown });
    const registry = await openRegistry(await memoryStore(), new ManualClock());
    const agent = new RemoteA2aAgent({ id: 'l1', url: `${base}/logged` });
    expect(await agent.refresh(registry, logger)).toBe(false);
    expect(lines.at(-1)).toMatchObject({ level: 40, agentId: 'l1', msg: 'agent card not read; registration kept' });
    cards.set('logged', card(['pay']));
    await agent.refresh(registry, logger);
    expect(lines.at(-1)).toMatchObject({ level: 30, agentId: 'l1', msg: 'agent card changed', capabilities: ['pay'], before: [] });
    cards.set('logged', card(['pay', 'ship']));
    await agent.refresh(registry, logger);
    expect(lines.at(-1)).toMatchObject({ msg: 'agent card changed', capabilities: ['pay', 'ship'], before: ['pay'] });
    const count = lines.length;
    await agent.refresh(registry, logger);
    expect(lines).toHaveLength(count); // unchanged: nothing to say
    cards.set('logged', card([]));
    await agent.refresh(registry, logger);
    expect(lines.at(-1)).toMatchObject({ msg: 'agent card changed', capabilities: [], before: ['pay', 'ship'] });
    await registry.close();
  });

  it('registers on the first read, takes away a skill that disappears, deregisters with none left, registers again, and keeps it all while the card cannot be read', async () => {
    const registry = await openRegistry(await memoryStore(), new ManualClock());
    const agent = new RemoteA2aAgent({ id: 'r1', url: `${base}/reg` });
    cards.set('reg', card(['pay', 'ship']));
    expect(await agent.refresh(registry)).toBe(true);
    expect(registry.get('r1')).toMatchObject({ registered: true, capabilities: ['pay', 'ship'] });
    expect(registry.transportOf('r1')).toBe(agent.transport);

    cards.set('reg', card(['ship']));
    expect(await agent.refresh(registry)).toBe(true);
    expect(registry.candidates('pay')).toEqual([]);
    expect(registry.candidates('ship')).toEqual(['r1']);

    cards.delete('reg');
    expect(await agent.refresh(registry)).toBe(false);
    expect(registry.candidates('ship')).toEqual(['r1']);

    cards.set('reg', card([]));
    expect(await agent.refresh(registry)).toBe(true);
    expect(registry.get('r1')?.registered).toBe(false);

    cards.set('reg', card(['pay']));
    expect(await agent.refresh(registry)).toBe(true);
    expect(registry.get('r1')).toMatchObject({ registered: true, capabilities: ['pay'] });

    cards.set('reg', card(['ship'])); // as many skills, another one
    expect(await agent.refresh(registry)).toBe(true);
    expect(registry.get('r1')).toMatchObject({ registered: true, capabilities: ['ship'] });
    cards.set('reg', card(['pay', 'ship']));
    await agent.refresh(registry);
    cards.set('reg', card(['pay', 'track'])); // one of two changed
    expect(await agent.refresh(registry)).toBe(true);
    expect(registry.get('r1')).toMatchObject({ registered: true, capabilities: ['pay', 'track'] });
    await registry.close();
  });

  it('writes nothing to the registry when the card has not changed', async () => {
    const registry = await openRegistry(await memoryStore(), new ManualClock());
    const agent = new RemoteA2aAgent({ id: 'r2', url: `${base}/same` });
    cards.set('same', card(['pay']));
    await agent.refresh(registry);
    await registry.deregister('r2'); // someone else took it away: an unchanged card does not undo that
    expect(await agent.refresh(registry)).toBe(true);
    expect(registry.get('r2')?.registered).toBe(false);
    await registry.close();
  });

  it('watches the card every refreshMs until stopped (30 s by default)', async () => {
    expect(DEFAULT_CARD_REFRESH_MS).toBe(30_000);
    let skills = ['pay'];
    const served: ServedAgent = await serveAgent({ name: 'w', skills: () => skills, handlers: { pay: () => null } });
    const registry = await openRegistry(await memoryStore(), new ManualClock());
    let cardReads = 0;
    let stopAtRead = 0;
    const counting: typeof fetch = (input, init) => {
      cardReads++;
      if (cardReads === stopAtRead) agent.stop();
      return fetch(input, init);
    };
    const agent = new RemoteA2aAgent({ id: 'w1', url: served.url, refreshMs: 20, fetch: counting });
    try {
      expect(await agent.watch(registry)).toBe(true);
      expect(registry.candidates('pay')).toEqual(['w1']);
      skills = ['ship'];
      await waitFor(() => registry.candidates('ship').length === 1, { what: 'the changed card to be read again' });
      expect(registry.candidates('pay')).toEqual([]);
      skills = ['pay', 'ship'];
      await waitFor(() => registry.candidates('pay').length === 1, { what: 'the card to be read a third time' });
      // Stopped while it reads the card, it reads it no more: ten periods on, no other read.
      stopAtRead = cardReads + 1;
      await waitFor(() => cardReads === stopAtRead, { what: 'the next read of the card' });
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(cardReads).toBe(stopAtRead);
    } finally {
      agent.stop();
      await served.close();
      await registry.close();
    }
  });
});
