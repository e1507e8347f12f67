/**
 * Claims of docs/cli.md that no other test checked (the audit in docs/testing.md): each test names
 * the sentence it holds the command to. The CLI runs in-process through `main` (exit code, stdout,
 * stderr) over a store of simulated trading workflows, as test/projections/cli.test.ts does.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { tradingPipeline } from '../../sagas/index.js';
import { definitionHash } from '../../src/workflow/hash.js';
import { openStore } from '../../src/store/open.js';
import type { RecordedEvent } from '../../src/store/port.js';
import { populate, readLog } from '../projections/fixtures/populate.js';
import { cadenzaInProcess } from './in-process.js';
import { cadenza } from './support.js';

const dir = mkdtempSync(join(tmpdir(), 'cadenza-cli-claims-'));
const store = `sqlite:${join(dir, 'cadenza.db')}`;
let ids: string[] = [];
let log: RecordedEvent[] = [];
/** A workflow of each ending, found in the log. */
let completed: string;
let compensated: string;

beforeAll(async () => {
  const opened = await openStore(store);
  ids = await populate(opened, { workflows: 12, seed: 77 });
  log = await readLog(opened);
  await opened.close();
  const endedWith = (type: string) => log.find((e) => e.type === type)!.stream.slice('workflow-'.length);
  completed = endedWith('WorkflowCompleted');
  compensated = endedWith('WorkflowCompensated');
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return cliOn(store, ...args);
}

const cliOn = cadenzaInProcess;

const eventsOf = (workflowId: string) => log.filter((e) => e.stream === `workflow-${workflowId}`);

describe('docs/cli.md, checked', () => {
  it('"Options may come before or after the command name": the same JSON either way', async () => {
    const before = await cli('--json', 'status', completed);
    const after = await cli('status', completed, '--json');
    expect(before.code).toBe(0);
    expect(JSON.parse(before.stdout)).toMatchObject({ workflowId: completed, status: 'completed' });
    expect(after.stdout).toBe(before.stdout);
  });

  it('"Set CADENZA_DEBUG=1 to get the stack trace after the one-line reason"; without it, one line', async () => {
    // Retrying a completed workflow makes no sense: exit 1, appends nothing.
    const plain = await cli('retry', completed, '--no-wait');
    expect(plain.code).toBe(1);
    expect(plain.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^cadenza: /)]);
    vi.stubEnv('CADENZA_DEBUG', '1');
    try {
      const debug = await cli('retry', completed, '--no-wait');
      expect(debug.code).toBe(1);
      const [first, ...stack] = debug.stderr.trim().split('\n');
      expect(first).toBe(plain.stderr.trim());
      expect(stack.some((line) => /^\s+at /.test(line))).toBe(true);
    } finally {
      vi.unstubAllEnvs();
    }
    const opened = await openStore(store);
    expect(await readLog(opened)).toHaveLength(log.length);
    await opened.close();
  });

  it('watch: "Exit 0 when it completed, 4 when it ended otherwise, 3 for an unknown workflow"; one line on stdout, or the final view with --json', async () => {
    const done = await cli('watch', completed);
    expect(done.code).toBe(0);
    expect(done.stdout).toMatch(new RegExp(`^${completed} completed 100% \\(\\d+/\\d+ steps\\)\\n$`));
    const rolledBack = await cli('watch', compensated, '--json');
    expect(rolledBack.code).toBe(4);
    expect(JSON.parse(rolledBack.stdout)).toMatchObject({ workflowId: compensated, status: 'compensated' });
    expect((await cli('watch', 'no-such-workflow')).code).toBe(3);
  });

  it('history --json: "{ workflowId, events: [{ revision, type, created, id, data, metadata }] }", every event in order', async () => {
    const result = await cli('history', compensated, '--json');
    expect(result.code).toBe(0);
    const doc = JSON.parse(result.stdout) as { workflowId: string; events: Record<string, unknown>[] };
    expect(doc.workflowId).toBe(compensated);
    const recorded = eventsOf(compensated);
    expect(doc.events.map((e) => Object.keys(e).sort())).toEqual(recorded.map(() => ['created', 'data', 'id', 'metadata', 'revision', 'type']));
    expect(doc.events.map((e) => [e.revision, e.type, e.id, e.created])).toEqual(recorded.map((e) => [Number(e.revision), e.type, e.id, e.created.toISOString()]));
    expect((await cli('history', 'no-such-workflow')).code).toBe(3);
  });

  it('sagas: "--json includes the full definitions", each with its hash and steps', async () => {
    const result = await cli('sagas', '--json');
    expect(result.code).toBe(0);
    const sagas = JSON.parse(result.stdout) as { name: string; hash: string; steps: string[]; definition: { steps: { id: string; action: string }[] } }[];
    const trading = sagas.find((s) => s.name === 'trading-pipeline')!;
    expect(trading.hash).toBe(definitionHash(tradingPipeline));
    expect(trading.definition).toEqual(JSON.parse(JSON.stringify(tradingPipeline)));
    expect(trading.steps).toEqual(tradingPipeline.steps.map((s) => s.id));
  });

  it('store info --json: events, workflows, definitions, bytes of the file, bytes per workflow, the last event', async () => {
    const result = await cli('store', 'info', '--json');
    expect(result.code).toBe(0);
    const info = JSON.parse(result.stdout) as Record<string, unknown>;
    const last = log.at(-1)!;
    expect(info).toMatchObject({
      store,
      events: log.length,
      workflows: ids.length,
      lastPosition: String(last.position.commit),
      lastEventAt: last.created.toISOString(),
    });
    expect(info.fileBytes).toBeGreaterThan(0);
    expect(info.bytesPerWorkflow).toBe(Math.round((info.fileBytes as number) / ids.length));
    expect(Object.keys(info).sort()).toEqual(['bytesPerWorkflow', 'definitions', 'events', 'fileBytes', 'lastEventAt', 'lastPosition', 'payloadBytes', 'store', 'workflows']);
  });

  it('audit: "--desc: newest first"; the JSON mode gives next, "pass it as --after for the next page"', async () => {
    const id = ids[3]!;
    const all = JSON.parse((await cli('audit', '--workflow', id, '--json', '--limit', '1000')).stdout) as { events: { revision: number }[]; next: string | null };
    expect(all.events.length).toBe(eventsOf(id).length);
    expect(all.next).toBeNull();
    const desc = JSON.parse((await cli('audit', '--workflow', id, '--json', '--desc', '--limit', '1000')).stdout) as { events: { revision: number }[] };
    expect(desc.events.map((e) => e.revision)).toEqual(all.events.map((e) => e.revision).reverse());
    const pages: number[] = [];
    let after: string | null = null;
    for (let page = 0; page < 100; page++) {
      const result = await cli('audit', '--workflow', id, '--json', '--limit', '4', ...(after === null ? [] : ['--after', after]));
      const doc = JSON.parse(result.stdout) as { events: { revision: number }[]; next: string | null };
      pages.push(...doc.events.map((e) => e.revision));
      after = doc.next;
      if (after === null) break;
    }
    expect(pages).toEqual(all.events.map((e) => e.revision));
  });

  it('list: "--status takes any of ... (comma-separated or repeated)"', async () => {
    const statusesOf = async (...args: string[]) =>
      (JSON.parse((await cli('list', '--json', '--limit', '1000', ...args)).stdout) as { workflows: { workflowId: string; status: string }[] }).workflows;
    const comma = await statusesOf('--status', 'completed,compensated');
    const repeated = await statusesOf('--status', 'completed', '--status', 'compensated');
    expect(comma.map((w) => w.workflowId).sort()).toEqual(repeated.map((w) => w.workflowId).sort());
    expect(new Set(comma.map((w) => w.status))).toEqual(new Set(['completed', 'compensated']));
    const ended = log.filter((e) => e.type === 'WorkflowCompleted' || e.type === 'WorkflowCompensated').length;
    expect(comma).toHaveLength(ended);
  });

  it('replay: "--until <revision | ISO 8601 time>": up to the last event recorded at or before the time', async () => {
    const recorded = eventsOf(compensated);
    const cut = recorded[3]!;
    const result = await cli('replay', compensated, '--until', cut.created.toISOString(), '--json');
    expect(result.code).toBe(0);
    const atOrBefore = recorded.filter((e) => e.created.getTime() <= cut.created.getTime());
    expect(JSON.parse(result.stdout)).toMatchObject({ workflowId: compensated, events: atOrBefore.length, state: { revision: atOrBefore.length - 1 } });
  });

  it('fork: "Exit 2 for a revision the workflow does not have", nothing written', async () => {
    const result = await cli('fork', completed, '--from', String(eventsOf(completed).length + 5), '--id', 'never-forked');
    expect(result.code).toBe(2);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect((await cli('status', 'never-forked')).code).toBe(3);
  });
});

describe('docs/cli.md, run and the global options', () => {
  const tradingInput = { symbol: 'ACME', quantity: 5, account: 'a-1' };

  it('run: "--input @file.json" reads the input from the file; "--no-wait ... --json prints { workflowId, name, version, priority, status: "queued" }"', async () => {
    const file = join(dir, 'input.json');
    writeFileSync(file, JSON.stringify(tradingInput));
    const runStore = `sqlite:${join(dir, 'no-wait.db')}`;
    const result = await cliOn(runStore, 'run', 'trading-pipeline', '--input', `@${file}`, '--no-wait', '--workflow-id', 'from-file', '--json');
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({ workflowId: 'from-file', name: 'trading-pipeline', version: 1, priority: 0, status: 'queued' });
    const history = JSON.parse((await cliOn(runStore, 'history', 'from-file', '--json')).stdout) as { events: { type: string; data: { input?: unknown } }[] };
    expect(history.events[0]).toMatchObject({ type: 'WorkflowStarted', data: { input: tradingInput } });
    // Only decided and appended: nothing ran.
    expect(history.events.map((e) => e.type)).not.toContain('StepSucceeded');
  });

  it('"Every simulated choice is a hash of the seed and the call\'s idempotency key": one workflow id and seed, the same history on two stores', async () => {
    const historyOf = async (name: string, seed: string) => {
      const runStore = `sqlite:${join(dir, `${name}.db`)}`;
      const args = ['--input', JSON.stringify(tradingInput), '--latency', '0', '--failure-rate', '0.4', '--rejection-rate', '0.3', '--post-trade-failure-rate', '0.3'];
      const run = await cliOn(runStore, 'run', 'trading-pipeline', ...args, '--seed', seed, '--workflow-id', 'seeded');
      expect([0, 4]).toContain(run.code);
      const doc = JSON.parse((await cliOn(runStore, 'history', 'seeded', '--json')).stdout) as { events: { type: string; data: { stepId?: string; agentId?: string } }[] };
      return doc.events.map((e) => [e.type, e.data.stepId, e.data.agentId].filter(Boolean).join(' '));
    };
    const first = await historyOf('seed-a', '11');
    expect(await historyOf('seed-b', '11')).toEqual(first);
    expect(first.length).toBeGreaterThan(3);
    // The seed is part of the draw: another seed, another history (seed 12 happens to differ).
    expect(await historyOf('seed-c', '12')).not.toEqual(first);
  });

  it('"Exit codes: 2 bad usage: unknown option"', async () => {
    const result = await cli('status', completed, '--no-such-option');
    expect(result.code).toBe(2);
  });

  it('"-v, --verbose: structured pino logs on stderr (one line per transition, with workflowId, stepId, attempt, agentId)"; without it, none', async () => {
    const args = ['--store', 'memory:', 'run', 'trading-pipeline', '--input', JSON.stringify(tradingInput), '--latency', '0', '--workflow-id', 'verbose-run'];
    const verbose = await cadenza('-v', ...args);
    expect(verbose.code).toBe(0);
    const lines = verbose.stderr.split('\n').filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as Record<string, unknown>);
    const stepLines = lines.filter((line) => line.stepId !== undefined);
    expect(stepLines.length).toBeGreaterThan(0);
    expect(stepLines.every((line) => line.workflowId === 'verbose-run')).toBe(true);
    expect(stepLines.some((line) => typeof line.attempt === 'number' && typeof line.agentId === 'string')).toBe(true);
    const quiet = await cadenza(...args);
    expect(quiet.code).toBe(0);
    expect(quiet.stderr.split('\n').filter((line) => line.startsWith('{'))).toEqual([]);
  }, 60_000);
});

describe('docs/cli.md, agent serve', () => {
  it('"A module that does not load or has no usable default export is one line naming the file and the field, exit 2"', async () => {
    const modules: [string, string, RegExp][] = [
      ['no-default.mjs', 'export const name = "x";\n', /has no default export/],
      ['no-name.mjs', 'export default { name: "", handlers: { go: async () => null } };\n', /name must be a non-empty string/],
      ['no-handlers.mjs', 'export default { name: "a", handlers: {} };\n', /handlers must be an object of functions/],
      ['bad-handler.mjs', 'export default { name: "a", handlers: { go: 42 } };\n', /handlers\.go is a number, not a function/],
      ['throws.mjs', 'throw new Error("boom at load");\n', /boom at load/],
    ];
    for (const [name, text, reason] of modules) {
      const file = join(dir, name);
      writeFileSync(file, text);
      const result = await cli('agent', 'serve', file);
      expect(result.code, name).toBe(2);
      expect(result.stderr.trim().split('\n'), name).toEqual([expect.stringMatching(reason)]);
      expect(result.stderr, name).toContain(name);
    }
    expect((await cli('agent', 'serve', join(dir, 'missing.mjs'))).code).toBe(2);
  });

  it('"a bind beyond loopback without [a token] is refused (exit 2)"; --tls-cert and --tls-key go together', async () => {
    const file = join(dir, 'fine.mjs');
    writeFileSync(file, 'export default { name: "fine", handlers: { go: async () => null } };\n');
    vi.stubEnv('CADENZA_AGENT_TOKEN', undefined);
    try {
      const open = await cli('agent', 'serve', file, '--host', '0.0.0.0');
      expect(open.code).toBe(2);
      expect(open.stderr).toMatch(/without a token/);
      expect((await cli('agent', 'serve', file, '--tls-cert', join(dir, 'cert.pem'))).code).toBe(2);
    } finally {
      vi.unstubAllEnvs();
    }
  });
});

describe('docs/cli.md, worker --http', () => {
  it('"a non-loopback bind without [a token] is refused with exit 2 before the store is opened"', async () => {
    const config = join(dir, 'empty.config.mjs');
    writeFileSync(config, 'export default { definitions: [] };\n');
    const untouched = join(dir, 'never-opened.db');
    vi.stubEnv('CADENZA_API_TOKEN', undefined);
    try {
      const result = await cliOn(`sqlite:${untouched}`, 'worker', '--config', config, '--http', '0.0.0.0:0');
      expect(result.code).toBe(2);
      expect(result.stderr.trim().split('\n')).toEqual([expect.stringMatching(/0\.0\.0\.0.*token/)]);
      expect(existsSync(untouched)).toBe(false);
    } finally {
      vi.unstubAllEnvs();
    }
  });
});
