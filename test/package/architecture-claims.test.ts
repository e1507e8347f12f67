/**
 * docs/architecture.md, checked against the code: "built in layers, each depending only on the ones
 * below it" (every relative import of src/, projections/ and sagas/ read and placed in its layer),
 * and "a lint rule (eslint.config.js) keeps I/O, Date.now, new Date() and Math.random out of the core"
 * (the project's own ESLint config run on core files that break it). docs/events.md, "Who writes
 * them": only the runtime and src/saga/stream/append.ts append to a workflow stream.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));

/**
 * The layers of the diagram in docs/architecture.md, lowest first: a module may import its own
 * layer and those below. (src/shared is the small pieces under everything.)
 */
const layers: readonly (readonly string[])[] = [
  ['src/shared'],
  ['src/store'],
  ['src/esdb-server', 'src/workflow', 'src/saga'],
  ['src/saga/stream'],
  ['src/agents'],
  ['src/saga/runtime', 'src/projections', 'projections'],
  ['src/operations', 'src/engine'],
  ['src/worker'],
  ['src/api', 'src/dashboard', 'sagas', 'src/index.ts'],
  ['src/cli'],
];

/** The layer of a file: the longest folder of the table it is in. */
function layerOf(file: string): number | undefined {
  let best: { layer: number; length: number } | undefined;
  layers.forEach((units, layer) => {
    for (const unit of units) {
      if ((file === unit || file.startsWith(`${unit}/`)) && unit.length > (best?.length ?? -1)) best = { layer, length: unit.length };
    }
  });
  return best?.layer;
}

function sourceFiles(folder: string): string[] {
  return readdirSync(join(root, folder), { withFileTypes: true }).flatMap((entry) => {
    const path = `${folder}/${entry.name}`;
    if (entry.isDirectory()) return sourceFiles(path);
    return /\.(ts|mjs|cjs|js)$/.test(entry.name) && !entry.name.endsWith('.d.ts') ? [path] : [];
  });
}

/** Relative module specifiers a file imports or re-exports, statically or dynamically. */
function relativeImports(text: string): string[] {
  const found: string[] = [];
  for (const match of text.matchAll(/\bfrom\s+['"](\.{1,2}\/[^'"]+)['"]|\bimport\s*\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)|^\s*import\s+['"](\.{1,2}\/[^'"]+)['"]/gm)) {
    found.push((match[1] ?? match[2] ?? match[3])!);
  }
  return found;
}

describe('docs/architecture.md: "built in layers, each depending only on the ones below it"', () => {
  it('has every relative import of src/, projections/ and sagas/ go to its own layer or one below', () => {
    const files = ['src', 'projections', 'sagas'].flatMap(sourceFiles);
    const upward: string[] = [];
    let imports = 0;
    for (const file of files) {
      const from = layerOf(file);
      expect(from, `${file} is in no layer of the table`).toBeDefined();
      for (const specifier of relativeImports(readFileSync(join(root, file), 'utf8'))) {
        const target = relative(root, join(root, dirname(file), specifier)).split('\\').join('/');
        // bin.js runs the build of these same sources when they are not beside it.
        if (target.startsWith('dist/')) continue;
        const to = layerOf(target);
        expect(to, `${file} imports ${target}, which is in no layer of the table`).toBeDefined();
        imports++;
        if (to! > from!) upward.push(`${file} -> ${target}`);
      }
    }
    // The scan saw the code base, not an empty folder.
    expect(files.length).toBeGreaterThan(200);
    expect(imports).toBeGreaterThan(800);
    expect(upward).toEqual([]);
  });
});

describe('docs/architecture.md: "a lint rule keeps I/O, Date.now, new Date() and Math.random out of the core"', () => {
  const eslint = new ESLint({ cwd: root });
  const problems = async (filePath: string, code: string) =>
    (await eslint.lintText(code, { filePath: join(root, filePath) }))[0]!.messages.map((m) => m.ruleId);

  it.each(['src/saga/some-core-module.ts', 'src/workflow/some-core-module.ts'])('refuses each of them in %s', async (file) => {
    expect(await problems(file, "import { readFileSync } from 'node:fs';\nexport const read = () => readFileSync('x');\n")).toEqual(['no-restricted-imports']);
    expect(await problems(file, "import { openStore } from '../store/open.js';\nexport const open = openStore;\n")).toEqual(['no-restricted-imports']);
    expect(await problems(file, 'export const now = () => Date.now();\n')).toEqual(['no-restricted-properties']);
    expect(await problems(file, 'export const random = () => Math.random();\n')).toEqual(['no-restricted-properties']);
    expect(await problems(file, 'export const today = () => new Date();\n')).toEqual(['no-restricted-syntax']);
    // Time handed in as data is fine.
    expect(await problems(file, 'export const at = (now: number) => new Date(now).toISOString();\n')).toEqual([]);
  });

  it('leaves the runtime, which keeps the clock, free to use it', async () => {
    expect(await problems('src/saga/runtime/some-module.ts', 'export const now = () => Date.now();\n')).toEqual([]);
  });
});

describe('docs/events.md, "Who writes them": the runtime, and without one src/saga/stream/append.ts; nothing else', () => {
  it('has only those two modules both name a workflow stream and append', () => {
    const writers = sourceFiles('src').filter((file) => {
      const text = readFileSync(join(root, file), 'utf8');
      return /\bworkflowStream\b|\bWORKFLOW_STREAM_PREFIX\b|['"`]workflow-/.test(text) && /\.append\(/.test(text);
    });
    expect(writers).toEqual(['src/saga/runtime/runtime.ts', 'src/saga/stream/append.ts']);
  });
});
