/**
 * Claims of docs/embedding.md's config table that its runnable examples (test/worker/embedding-doc
 * .test.ts) do not reach: the defaults, definition paths relative to the config file, a bad field
 * named, and the config's `store` used only when neither `--store` nor CADENZA_STORE is given.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.js';
import { openStore } from '../../src/store/open.js';
import { parseConfig } from '../../src/worker/config.js';

const dir = mkdtempSync(join(tmpdir(), 'cadenza-embedding-claims-'));
const definition = {
  name: 'claims-flow',
  version: 1,
  steps: [{ id: 'only', action: 'do', capability: 'nobody' }],
};
writeFileSync(join(dir, 'flow.json'), JSON.stringify(definition));

afterEach(() => {
  vi.unstubAllEnvs();
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('docs/embedding.md, the config', () => {
  it('"drainTimeoutMs (default 10000)", "logLevel ... info (default)", definition files "relative to the config file"', async () => {
    const config = await parseConfig({ definitions: ['./flow.json'] }, { source: 'c.mjs', baseDir: dir });
    expect(config.drainTimeoutMs).toBe(10_000);
    expect(config.logLevel).toBe('info');
    expect(config.definitions.map((d) => `${d.name}@${d.version}`)).toEqual(['claims-flow@1']);
    expect(config).not.toHaveProperty('store');
    expect(config).not.toHaveProperty('maxInFlight'); // the runtime's own default applies (1000)
  });

  it('"a bad one is one line naming the field"', async () => {
    await expect(parseConfig({ definitions: [], drainTimeoutMs: -1 }, { source: 'c.mjs', baseDir: dir })).rejects.toThrow(/drainTimeoutMs/);
    await expect(parseConfig({ definitions: ['./missing.json'] }, { source: 'c.mjs', baseDir: dir })).rejects.toThrow(/definitions\.0/);
    await expect(parseConfig({ definitions: [], logLevel: 'loud' }, { source: 'c.mjs', baseDir: dir })).rejects.toThrow(/logLevel/);
    await expect(parseConfig({ definitions: [], storage: 'x' }, { source: 'c.mjs', baseDir: dir })).rejects.toThrow(/storage/);
  });

  it('"store: used when neither --store nor CADENZA_STORE is given"', async () => {
    const configured = join(dir, 'configured.db');
    const given = join(dir, 'given.db');
    const configFile = join(dir, 'cadenza.config.mjs');
    writeFileSync(configFile, `export default { store: ${JSON.stringify(`sqlite:${configured}`)}, definitions: ['./flow.json'] };\n`);
    vi.stubEnv('CADENZA_STORE', undefined);
    const start = (id: string, ...store: string[]) => quietly(() => main(['node', 'cadenza', ...store, 'run', 'claims-flow', '--config', configFile, '--no-wait', '--workflow-id', id, '--input', '{}']));
    expect(await start('from-config')).toBe(0);
    expect(await start('from-flag', '--store', `sqlite:${given}`)).toBe(0);
    expect(await workflowsIn(configured)).toEqual(['workflow-from-config']);
    expect(await workflowsIn(given)).toEqual(['workflow-from-flag']);
  });
});

async function workflowsIn(file: string): Promise<string[]> {
  const store = await openStore(`sqlite:${file}`);
  try {
    const streams = new Set<string>();
    for await (const event of store.readAll()) if (event.stream.startsWith('workflow-')) streams.add(event.stream);
    return [...streams];
  } finally {
    await store.close();
  }
}

/** The CLI's exit code, its output kept off the test's own. */
async function quietly(run: () => Promise<number>): Promise<number> {
  const out = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
  const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  try {
    return await run();
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
}
