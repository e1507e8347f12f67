/**
 * Bad configs, definition files and inputs are refused before the store is touched: one line on
 * stderr naming the field, exit 2 (3 for a saga name nothing knows, as docs/cli.md says), and the
 * store file is never even created. A demo refuses a store holding a user's workflow.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/open.js';
import { cadenza, history, order, ordersConfig, ordersDefinition } from './support.js';

const dir = mkdtempSync(join(tmpdir(), 'cadenza-bad-'));
const storeFile = join(dir, 'never.db');
const store = `sqlite:${storeFile}`;
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

/** A refusal: exit `code`, one line on stderr matching `message`, no stack trace, nothing written. */
function expectRefused(result: { code: number; stderr: string; stdout: string }, code: number, message: RegExp): void {
  expect(result.code, result.stderr).toBe(code);
  expect(result.stderr.trim().split('\n')).toHaveLength(1);
  expect(result.stderr).toMatch(message);
  expect(result.stderr).not.toMatch(/\n\s+at /);
  expect(result.stdout).toBe('');
  expect(existsSync(storeFile)).toBe(false);
}

describe('bad configs', () => {
  it('names the field of a bad config, for worker and run alike', async () => {
    const noCapabilities = file('no-capabilities.config.mjs', "export default { agents: [{ id: 'a', capabilities: [], transport: { invoke: async () => ({ ok: true, output: null }) } }] };\n");
    expectRefused(await cadenza(['--store', store, 'worker', '--config', noCapabilities]), 2, /^cadenza: Invalid config .*no-capabilities\.config\.mjs: agents\.0\.capabilities: /);
    // Every agent is checked before any is registered: the second one's bad id writes nothing.
    const badId = file('bad-id.config.mjs', "const transport = { invoke: async () => ({ ok: true, output: null }) };\nexport default { agents: [{ id: 'good', capabilities: ['c'], transport }, { id: 'has space', capabilities: ['c'], transport }] };\n");
    expectRefused(await cadenza(['--store', store, 'worker', '--config', badId]), 2, /bad-id\.config\.mjs: agents\.1\.id: letters, digits/);
    const unknownField = file('typo.config.mjs', 'export default { definitons: [] };\n');
    expectRefused(await cadenza(['--store', store, 'worker', '--config', unknownField]), 2, /typo\.config\.mjs: .*definitons/);
    const badUrl = file('remote.config.mjs', "export default { remoteAgents: [{ id: 'r', capabilities: ['x'], url: 'not a url' }] };\n");
    expectRefused(await cadenza(['--store', store, 'run', 'x', '--config', badUrl, '--input', '{}']), 2, /remoteAgents\.0\.url: must be an http\(s\) URL/);
    const badDefinition = file('bad-definition.config.mjs', "export default { definitions: [{ name: 'w', steps: [{ id: 'a', action: 'a', capability: 'c', dependsOn: ['nope'] }] }] };\n");
    expectRefused(await cadenza(['--store', store, 'worker', '--config', badDefinition]), 2, /definitions\.0: .*step "a" dependsOn/);
    const noDefault = file('no-default.config.mjs', 'export const config = {};\n');
    expectRefused(await cadenza(['--store', store, 'worker', '--config', noDefault]), 2, /has no default export/);
    expectRefused(await cadenza(['--store', store, 'worker', '--config', join(dir, 'missing.config.mjs')]), 2, /missing\.config\.mjs: no such file/);
  }, 120_000);
});

describe('bad run input', () => {
  it('refuses malformed JSON, input missing a required field, an invalid definition file and an unknown saga', async () => {
    const run = (...args: string[]) => cadenza(['--store', store, 'run', ...args]);
    expectRefused(await run('order-fulfilment', '--config', ordersConfig, '--input', '{"orderId": '), 2, /--input.*not valid JSON/);
    const noAddress = JSON.stringify({ ...(JSON.parse(order('o')) as object), address: undefined });
    expectRefused(await run(ordersDefinition, '--no-wait', '--input', noAddress), 2, /^cadenza: Invalid input for order-fulfilment: address: required$/m);
    const badFile = file('bad.json', JSON.stringify({ name: 'bad', steps: [{ id: 'a', action: 'a', capability: 'c', retry: { jitter: 3 } }] }));
    expectRefused(await run(badFile, '--no-wait', '--input', '{}'), 2, /step "a" retry\.jitter/);
    expectRefused(await run(file('broken.json', '{ "name": '), '--no-wait', '--input', '{}'), 2, /broken\.json: invalid workflow definition: .*not valid JSON/);
    expectRefused(await run('no-such-saga', '--config', ordersConfig, '--input', '{}'), 3, /Unknown saga "no-such-saga" \(known: order-fulfilment, /);
    // A user's saga without agents: run needs --config (or --no-wait and a worker).
    expectRefused(await run(ordersDefinition, '--input', order('o')), 2, /run order-fulfilment needs --config/);
    expectRefused(await cadenza(['--store', store, 'fork', 'any', '--from', '1', '--follow']), 2, /--follow needs --config/);
  }, 120_000);
});

describe('demo on a store it did not create', () => {
  it('refuses a store that holds a user workflow unless --force, and writes nothing', async () => {
    const userStore = `sqlite:${join(dir, 'user.db')}`;
    const started = await cadenza(['--store', userStore, 'run', ordersDefinition, '--no-wait', '--workflow-id', 'user-order', '--input', order('user-order')]);
    expect(started.code, started.stderr).toBe(0);
    const before = (await history(userStore, 'user-order')).length;
    const demo = await cadenza(['--store', userStore, 'demo', '-n', '2', '--latency', '0']);
    expect(demo.code).toBe(2);
    expect(demo.stderr.trim()).toMatch(/^cadenza: This store holds workflows that are not the demo's \(e\.g\. order-fulfilment user-order\): use another --store, or --force/);
    expect(await history(userStore, 'user-order')).toHaveLength(before);
    // No simulated agent was registered in the user's store.
    const opened = await openStore(userStore);
    const agentEvents: string[] = [];
    for await (const event of opened.readAll({ filter: { streamNamePrefix: ['agent-'] } })) agentEvents.push(event.stream);
    await opened.close();
    expect(agentEvents).toEqual([]);

    // Asked to: it runs there, and drives only its own workflows.
    const forced = await cadenza(['--store', userStore, '--json', 'demo', '-n', '1', '--latency', '0', '--failure-rate', '0', '--rejection-rate', '0', '--post-trade-failure-rate', '0', '--force']);
    expect(forced.code, forced.stderr).toBe(0);
    expect(JSON.parse(forced.stdout)).toMatchObject({ total: 1, completed: 1 });
  }, 120_000);
});
