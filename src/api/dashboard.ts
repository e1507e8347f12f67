/**
 * The web dashboard, served at `/` by the API server: the page and its modules from src/dashboard
 * (browser ESM, no build step) and a fixed allow-list of library files from node_modules (preact,
 * htm, dagre, uPlot), so nothing is fetched from a CDN. The page holds no data: it asks the API for
 * everything with the bearer token when one is set, so these files are served without it.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ApiApp } from './app.js';
import { sendProblem } from './problems.js';

export const DASHBOARD_PREFIX = '/dashboard/';

/** `/dashboard/vendor/<name>` -> a file of an installed package. Only these are served. */
const vendorFiles: Readonly<Record<string, { readonly pkg: string; readonly file: string }>> = {
  'preact.mjs': { pkg: 'preact', file: 'dist/preact.mjs' },
  'preact-hooks.mjs': { pkg: 'preact', file: 'hooks/dist/hooks.mjs' },
  'htm.mjs': { pkg: 'htm', file: 'dist/htm.mjs' },
  'dagre.mjs': { pkg: '@dagrejs/dagre', file: 'dist/dagre.esm.js' },
  'uplot.mjs': { pkg: 'uplot', file: 'dist/uPlot.esm.js' },
  'uplot.css': { pkg: 'uplot', file: 'dist/uPlot.min.css' },
};

const contentTypes: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

/** The page's files need no token (they hold no data); the API they call does. */
export function isDashboardAsset(path: string): boolean {
  return path === '/' || path.startsWith(DASHBOARD_PREFIX);
}

/**
 * src/dashboard in a checkout (this file runs from src/api) and in the package (it runs from
 * dist/src/api; package.json's `files` ships src/dashboard beside dist).
 */
function dashboardDir(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [join(here, '..', 'dashboard'), join(here, '..', '..', '..', 'src', 'dashboard')];
  const found = candidates.find((dir) => existsSync(join(dir, 'index.html')));
  if (!found) throw new Error(`the dashboard's files are missing (looked in ${candidates.join(', ')})`);
  return found;
}

/** An installed package's directory, found from its entry point (exports maps hide package.json for some). */
function packageDir(name: string): string {
  const require = createRequire(import.meta.url);
  let dir = dirname(require.resolve(name));
  while (dir !== dirname(dir)) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === name) return dir;
    dir = dirname(dir);
  }
  throw new Error(`cannot find the installed package ${name}`);
}

interface Asset {
  readonly body: Buffer;
  readonly type: string;
  readonly cache: string;
}

/** Reads every file once (the lot is a few hundred KB) and registers `/` and `/dashboard/*`. */
export function registerDashboard(app: ApiApp): void {
  const assets = new Map<string, Asset>();
  const dir = dashboardDir();
  for (const name of readdirSync(dir)) {
    const type = contentTypes[extname(name)];
    // The page's own files change with each release: revalidate; the libraries' are pinned by the lockfile.
    if (type) assets.set(`${DASHBOARD_PREFIX}${name}`, { body: readFileSync(join(dir, name)), type, cache: 'no-cache' });
  }
  for (const [name, { pkg, file }] of Object.entries(vendorFiles)) {
    const type = contentTypes[extname(name)]!;
    assets.set(`${DASHBOARD_PREFIX}vendor/${name}`, { body: readFileSync(join(packageDir(pkg), file)), type, cache: 'public, max-age=3600' });
  }
  const index = assets.get(`${DASHBOARD_PREFIX}index.html`)!;

  app.get('/', { schema: { hide: true } }, (_request, reply) => reply.type(index.type).header('cache-control', 'no-cache').send(index.body));
  app.get(`${DASHBOARD_PREFIX}*`, { schema: { hide: true } }, (request, reply) => {
    const asset = assets.get(request.url.split('?')[0]!);
    if (!asset) return sendProblem(reply, 404, `No dashboard file ${request.url.split('?')[0]}`);
    return reply.type(asset.type).header('cache-control', asset.cache).send(asset.body);
  });
}
