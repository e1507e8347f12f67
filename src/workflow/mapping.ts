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
  // Walks the segments in place rather than splitting: mappings are read on every decision.
  let current: Json = root;
  for (let start = 0; ; ) {
    const dot = path.indexOf('.', start);
    const end = dot === -1 ? path.length : dot;
    const next: Json | undefined = childOf(current, path.slice(start, end));
    if (next === undefined) throw new MappingError(path, path.slice(0, end));
    if (dot === -1) return next;
    current = next;
    start = dot + 1;
  }
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
  return setFrom(root, path, 0, value);
}

/** Sets the rest of `path`, from the segment at `start`, in `node`. */
function setFrom(node: Json | undefined, path: string, start: number, value: Json): Json {
  const dot = path.indexOf('.', start);
  const end = dot === -1 ? path.length : dot;
  const key = path.slice(start, end);
  const rest = dot === -1 ? value : setFrom(childOf(node, key), path, dot + 1, value);
  if (Array.isArray(node) || (node === undefined && isIndex(key))) {
    if (!isIndex(key)) throw new MappingError(path, path.slice(0, end), `Cannot set "${path}": "${key}" is not an array index`);
    const copy = node === undefined ? [] : node.slice();
    const index = Number(key);
    for (let j = copy.length; j < index; j++) copy.push(null); // no holes: JSON has none
    copy[index] = rest;
    return copy;
  }
  if (node === undefined || node === null) return { [key]: rest };
  const parent = start === 0 ? '' : path.slice(0, start - 1);
  if (!isJsonObject(node)) throw new MappingError(path, parent, `Cannot set "${path}": "${parent}" is not an object`);
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
  // While `result` is an object made here that nobody else holds, a top-level key is written in
  // place: setPath would copy the whole object once per key.
  let owned = true;
  for (const target of Object.keys(mapping)) {
    const value = readSource(mapping[target] as MappingSource, scope);
    if (owned && isPlainKey(target)) {
      (result as JsonObject)[target] = value;
    } else {
      result = setPath(result, target, value);
      owned = target !== '' && target !== '$' && isJsonObject(result);
    }
  }
  return result as JsonObject;
}

/** A one-segment path that is safe to assign (`__proto__` would set the prototype). */
function isPlainKey(path: string): boolean {
  return path !== '' && path !== '$' && path !== '__proto__' && path.indexOf('.') === -1;
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
