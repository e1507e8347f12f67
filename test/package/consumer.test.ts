/**
 * The package as a user gets it: `npm pack` (which builds dist/ through `prepare`), the tarball
 * installed into a project outside the checkout, a user's saga in a plain .mjs run under plain
 * node (no tsx), the `cadenza` command from that install, and a TypeScript file compiled against
 * the shipped declarations through the exports map.
 *
 * Install without the network and without native builds: the scratch project gets a lockfile made
 * from the checkout's (the production entries), so `npm ci --offline` takes every tarball from the
 * npm cache that the checkout's own `npm ci` filled; scripts are skipped and better-sqlite3's
 * binding is copied from the checkout's build instead of compiled again (about 1.5 minutes saved).
 */
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const checkout = fileURLToPath(new URL('../..', import.meta.url));
const manifest = JSON.parse(readFileSync(join(checkout, 'package.json'), 'utf8')) as { name: string; version: string; license: string; dependencies: Record<string, string>; bin: Record<string, string>; engines: Record<string, string> };
let scratch = '';

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** A child process with the environment a user's shell has: no loader flags inherited from the test runner. */
function run(file: string, args: readonly string[], cwd: string): Promise<Run> {
  const env = { ...process.env };
  delete env.NODE_OPTIONS;
  return new Promise((resolve) => {
    execFile(file, [...args], { cwd, env, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
    });
  });
}

async function must(file: string, args: readonly string[], cwd: string): Promise<Run> {
  const result = await run(file, args, cwd);
  if (result.code !== 0) throw new Error(`${file} ${args.join(' ')} exited ${result.code}: ${result.stderr.slice(-2000)}`);
  return result;
}

/** The checkout's lockfile cut down to what an install of the tarball needs. */
function scratchLock(tarball: string): object {
  const lock = JSON.parse(readFileSync(join(checkout, 'package-lock.json'), 'utf8')) as { packages: Record<string, { dev?: boolean; devOptional?: boolean }> };
  const packages: Record<string, unknown> = {
    '': { name: 'scratch', dependencies: { [manifest.name]: tarball } },
    [`node_modules/${manifest.name}`]: { version: manifest.version, resolved: tarball, license: manifest.license, dependencies: manifest.dependencies, bin: manifest.bin, engines: manifest.engines },
  };
  for (const [path, entry] of Object.entries(lock.packages)) {
    if (path.startsWith('node_modules/') && !entry.dev && !entry.devOptional) packages[path] = entry;
  }
  return { name: 'scratch', lockfileVersion: 3, requires: true, packages };
}

const definition = {
  $schema: './node_modules/cadenza/schema/workflow-definition.schema.json',
  name: 'order',
  steps: [
    { id: 'charge', action: 'charge', capability: 'payments', input: { amount: 'input.amount' }, output: { payment: '$' }, compensation: { action: 'refund', input: { paymentId: '$output.paymentId' } } },
    { id: 'ship', action: 'ship', capability: 'shipping', dependsOn: ['charge'], retry: { maxAttempts: 1 } },
  ],
};

/** A user's saga: the definition from the JSON file, agents as plain functions, a shipment that fails. */
const saga = `
import { createEngine, defineAgent, loadDefinitionFile, AgentFailure } from 'cadenza';

const refunds = [];
const order = await loadDefinitionFile('order.workflow.json');
const engine = await createEngine({
  store: process.argv[2],
  definitions: [order],
  agents: [
    defineAgent({ id: 'payments', capabilities: ['payments'], handlers: {
      charge: async ({ amount }) => ({ paymentId: 'pay-' + amount }),
      refund: async ({ paymentId }) => { refunds.push(paymentId); },
    } }),
    defineAgent({ id: 'shipping', capabilities: ['shipping'], handlers: {
      ship: async () => { throw new AgentFailure('no courier today', 'no-courier', false); },
    } }),
  ],
});
const { workflowId } = await engine.start('order', { amount: 42 }, { workflowId: 'order-1' });
const state = await engine.wait(workflowId);
const status = await engine.status(workflowId);
await engine.stop();
console.log(JSON.stringify({ workflowId, status: state.status, refunds, compensated: status.compensation?.compensated }));
`;

const typedConsumer = `
import { createEngine, defineAgent, workflow, DefinitionError, type Engine, type WorkflowStatusView } from 'cadenza';
const definition = workflow('typed').step({ id: 'a', action: 'a', capability: 'c' }).build();
const engine: Engine = await createEngine({ store: 'memory:', definitions: [definition], agents: [defineAgent({ id: 'c1', capabilities: ['c'], handlers: { a: async () => ({ ok: 1 }) } })] });
const view: WorkflowStatusView = await engine.status('w');
const issues: readonly { field: string }[] = new DefinitionError([]).issues;
export { view, issues };
`;

beforeAll(async () => {
  scratch = mkdtempSync(join(tmpdir(), 'cadenza-consumer-'));
  const packed = join(scratch, 'packed');
  mkdirSync(packed);
  await must('npm', ['pack', '--pack-destination', packed, '--silent'], checkout);
  const tarball = join(packed, `${manifest.name}-${manifest.version}.tgz`);
  expect(existsSync(tarball), `npm pack made ${tarball}`).toBe(true);

  const project = join(scratch, 'project');
  mkdirSync(project);
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'scratch', private: true, type: 'module', dependencies: { [manifest.name]: `file:${tarball}` } }, null, 2));
  writeFileSync(join(project, 'package-lock.json'), JSON.stringify(scratchLock(`file:${tarball}`), null, 2));
  const install = ['ci', '--ignore-scripts', '--no-audit', '--no-fund'];
  const offline = await run('npm', [...install, '--offline'], project);
  // A cache that lacks a tarball (a checkout installed some other way): the registry is reachable.
  if (offline.code !== 0) await must('npm', [...install, '--prefer-offline'], project);

  const binding = join(dirname(createRequire(import.meta.url).resolve('better-sqlite3/package.json')), 'build', 'Release', 'better_sqlite3.node');
  const target = join(project, 'node_modules', 'better-sqlite3', 'build', 'Release');
  mkdirSync(target, { recursive: true });
  copyFileSync(binding, join(target, 'better_sqlite3.node'));

  writeFileSync(join(project, 'order.workflow.json'), JSON.stringify(definition, null, 2));
  writeFileSync(join(project, 'saga.mjs'), saga);
  writeFileSync(join(project, 'typed.ts'), typedConsumer);
}, 600_000);

// Removing a scratch install of the package (tens of thousands of files) can take a while on a busy machine.
afterAll(() => {
  if (scratch) rmSync(scratch, { recursive: true, force: true });
}, 180_000);

const project = (): string => join(scratch, 'project');

describe('the packed package', () => {
  it('runs a user-defined saga with compensation under plain node', async () => {
    const result = await must(process.execPath, ['saga.mjs', 'sqlite:./store.db'], project());
    expect(JSON.parse(result.stdout)).toEqual({ workflowId: 'order-1', status: 'compensated', refunds: ['pay-42'], compensated: ['charge'] });
    // It ran the compiled package, not the checkout's sources.
    expect(existsSync(join(project(), 'node_modules', 'cadenza', 'src', 'index.ts'))).toBe(false);
  }, 60_000);

  it('ships the cadenza command, which runs under plain node', async () => {
    const cadenza = join(project(), 'node_modules', '.bin', 'cadenza');
    const valid = await run(process.execPath, [cadenza, 'validate', 'order.workflow.json', '--json'], project());
    expect(valid.code).toBe(0);
    expect(JSON.parse(valid.stdout)).toMatchObject({ valid: true, name: 'order', steps: 2 });

    await must(process.execPath, ['saga.mjs', 'sqlite:./cli.db'], project());
    const status = await run(process.execPath, [cadenza, '--store', 'sqlite:./cli.db', 'status', 'order-1', '--json'], project());
    expect(status.stderr).toBe('');
    expect(JSON.parse(status.stdout)).toMatchObject({ workflowId: 'order-1', status: 'compensated', compensation: { compensated: ['charge'] } });
  }, 60_000);

  it('serves the dashboard page and its library files from the installed package', async () => {
    const cadenza = join(project(), 'node_modules', '.bin', 'cadenza');
    const env = { ...process.env };
    delete env.NODE_OPTIONS;
    const child = spawn(process.execPath, [cadenza, '--store', 'sqlite:./dashboard.db', 'serve', '--http', '127.0.0.1:0', '--json'], { cwd: project(), env, stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      const lines = createInterface({ input: child.stdout });
      const first = await Promise.race([
        once(lines, 'line').then(([line]) => line as string),
        once(child, 'exit').then(([code]) => { throw new Error(`cadenza serve exited ${code} before its ready line`); }),
      ]);
      const { url } = JSON.parse(first) as { url: string };
      const page = await fetch(`${url}/`);
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('/dashboard/app.js');
      for (const file of ['app.js', 'workflow.js', 'style.css', 'vendor/preact.mjs', 'vendor/htm.mjs', 'vendor/dagre.mjs', 'vendor/uplot.mjs']) {
        expect((await fetch(`${url}/dashboard/${file}`)).status, file).toBe(200);
      }
    } finally {
      child.kill('SIGTERM');
      if (child.exitCode === null) await once(child, 'exit');
    }
  }, 60_000);

  it('ships type declarations that a TypeScript project compiles against through the exports map', async () => {
    writeFileSync(
      join(project(), 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: { target: 'ES2023', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true, skipLibCheck: true, types: ['node'], typeRoots: [join(checkout, 'node_modules', '@types')] },
        files: ['typed.ts'],
      }),
    );
    const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
    const result = await run(process.execPath, [tsc, '-p', '.'], project());
    expect(result.stdout + result.stderr).toBe('');
    expect(result.code).toBe(0);
  }, 120_000);
});
