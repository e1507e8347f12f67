/**
 * Data mapping: reading and writing dotted paths (`portfolio.positions.0.symbol`) in JSON data.
 * Writes are immutable and copy only the containers along the path (structural sharing).
 */
import { isJsonObject, type Json, type JsonObject } from './json.js';

/** A path could not be read: names the path and the first segment that was missing. */
export class MappingError extends Error {
  constructor(
    readonly path: string,
    readonly missingAt: string,
    message?: string,
  ) {
    super(message ?? `Missing path "${path}" (nothing at "${missingAt}")`);
    this.name = 'MappingError';
  }
}

/** An input mapping source: a dotted path, or a literal value. */
export type MappingSource = string | { readonly value: Json };

/** Reads `path` from `root`; `''` or `'$'` is the whole value. Throws `MappingError` when missing. */
export function getPath(root: Json | undefined, path: string): Json {
  if (root === undefined) throw new MappingError(path, '$');
  if (path === '' || path === '$') return root;
  const segments = path.split('.');
  let current: Json = root;
  for (let i = 0; i < segments.length; i++) {
    const key = segments[i] as string;
    const next: Json | undefined = childOf(current, key);
    if (next === undefined) throw new MappingError(path, segments.slice(0, i + 1).join('.'));
    current = next;
  }
  return current;
}

/** True when `path` can be read from `root`. */
export function hasPath(root: Json | undefined, path: string): boolean {
  try {
    getPath(root, path);
    return true;
  } catch (error) {
    if (error instanceof MappingError) return false;
    throw error;
  }
}

/**
 * Returns a copy of `root` with `value` at `path`, creating objects (or arrays, for numeric
 * segments) on the way. Containers off the path are shared, never copied or mutated.
 */
export function setPath(root: Json | undefined, path: string, value: Json): Json {
  if (path === '' || path === '$') return value;
  return setSegments(root, path.split('.'), 0, value, path);
}

function setSegments(node: Json | undefined, segments: string[], i: number, value: Json, path: string): Json {
  const key = segments[i] as string;
  const rest = i + 1 < segments.length ? setSegments(childOf(node, key), segments, i + 1, value, path) : value;
  if (Array.isArray(node) || (node === undefined && isIndex(key))) {
    if (!isIndex(key)) throw new MappingError(path, segments.slice(0, i + 1).join('.'), `Cannot set "${path}": "${key}" is not an array index`);
    const copy = node === undefined ? [] : node.slice();
    const index = Number(key);
    for (let j = copy.length; j < index; j++) copy.push(null); // no holes: JSON has none
    copy[index] = rest;
    return copy;
  }
  if (node === undefined || node === null) return { [key]: rest };
  if (!isJsonObject(node)) throw new MappingError(path, segments.slice(0, i).join('.'), `Cannot set "${path}": "${segments.slice(0, i).join('.')}" is not an object`);
  return { ...node, [key]: rest };
}

function childOf(node: Json | undefined, key: string): Json | undefined {
  if (Array.isArray(node)) return isIndex(key) ? node[Number(key)] : undefined;
  if (isJsonObject(node)) return Object.prototype.hasOwnProperty.call(node, key) ? node[key] : undefined;
  return undefined;
}

function isIndex(key: string): boolean {
  if (key.length === 0 || (key.length > 1 && key.charCodeAt(0) === 48)) return false;
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

/**
 * Scopes a mapping may read. Plain paths read the workflow data; `$output.x` and `$input.x` read a
 * step's own output and input (compensations use these to undo exactly what the step did).
 */
export interface MappingScope {
  readonly data: Json;
  readonly output?: Json;
  readonly input?: Json;
}

const scopedPrefixes = ['$output', '$input'] as const;

/** Splits `$output.orderId` into its scope and the path inside it. */
export function parseSourcePath(source: string): { scope: 'data' | 'output' | 'input'; path: string } {
  for (const prefix of scopedPrefixes) {
    if (source === prefix) return { scope: prefix === '$output' ? 'output' : 'input', path: '' };
    if (source.startsWith(`${prefix}.`)) return { scope: prefix === '$output' ? 'output' : 'input', path: source.slice(prefix.length + 1) };
  }
  return { scope: 'data', path: source };
}

/** Builds a step's input from its mapping. Throws `MappingError` naming the missing source path. */
export function resolveInput(mapping: Readonly<Record<string, MappingSource>>, scope: MappingScope): JsonObject {
  let result: Json = {};
  for (const [target, source] of Object.entries(mapping)) {
    result = setPath(result, target, readSource(source, scope));
  }
  return result as JsonObject;
}

function readSource(source: MappingSource, scope: MappingScope): Json {
  if (typeof source !== 'string') return source.value;
  const { scope: where, path } = parseSourcePath(source);
  const root = where === 'data' ? scope.data : where === 'output' ? scope.output : scope.input;
  try {
    return getPath(root, path);
  } catch (error) {
    if (error instanceof MappingError) throw new MappingError(source, error.missingAt === '$' ? source : `${where === 'data' ? '' : `$${where}.`}${error.missingAt}`);
    throw error;
  }
}

/**
 * Writes a step's output into the workflow data: each entry maps a data path to a path in the
 * output (`'$'` for the whole output). Throws `MappingError` when the output lacks a mapped path.
 */
export function applyOutput(data: Json, mapping: Readonly<Record<string, string>>, output: Json): Json {
  let result = data;
  for (const [target, source] of Object.entries(mapping)) {
    let value: Json;
    try {
      value = getPath(output, source);
    } catch (error) {
      if (error instanceof MappingError) throw new MappingError(`$output.${source}`, `$output.${error.missingAt}`, `Step output has no "${source}" (mapped to "${target}")`);
      throw error;
    }
    result = setPath(result, target, value);
  }
  return result;
}
