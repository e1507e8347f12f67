/**
 * Argument validation for the event store port, shared by every backend (the sqlite store and the
 * embedded EventStoreDB server), so bad input is rejected with the same clear message everywhere and
 * before anything is written.
 */
import { InvalidArgumentError } from './errors.js';
import { MAX_WRITER_LENGTH, type AllFilter, type EventData, type ExpectedRevision, type Json, type Position, type StreamMetadata } from './port.js';

/** Longest stream name accepted, in characters (EventStoreDB has no hard limit; this keeps rows sane). */
export const MAX_STREAM_NAME_LENGTH = 1000;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function validateStreamName(stream: unknown, field = 'stream'): string {
  if (typeof stream !== 'string') throw new InvalidArgumentError(`${field} must be a string, got ${describe(stream)}`);
  if (stream.length === 0) throw new InvalidArgumentError(`${field} must not be empty`);
  if (stream.length > MAX_STREAM_NAME_LENGTH) {
    throw new InvalidArgumentError(`${field} is ${stream.length} characters long; the maximum is ${MAX_STREAM_NAME_LENGTH}`);
  }
  if (stream.includes('\0')) throw new InvalidArgumentError(`${field} must not contain a NUL character`);
  return stream;
}

/** An event whose data and metadata are ready to store: JSON text, or the bytes of a binary event or metadata. */
export interface SerializedEvent {
  /** Lower-case UUID. */
  readonly id: string;
  readonly type: string;
  /** JSON text, or a binary event's bytes. */
  readonly data: string | Uint8Array;
  /** JSON text of an object, or bytes as given; `null` when the event has none (or `{}`, or no bytes). */
  readonly metadata: string | Uint8Array | null;
}

/** Validate a whole append and serialise it; throws on the first problem, naming the event's index. */
export function serializeEvents(events: unknown): SerializedEvent[] {
  if (!Array.isArray(events)) throw new InvalidArgumentError(`events must be an array, got ${describe(events)}`);
  return events.map((event: unknown, index) => serializeEvent(event, index));
}

function serializeEvent(event: unknown, index: number): SerializedEvent {
  // Field names are built only for an error message (no closure either: this runs for every event
  // appended, and tsx names every closure it sees made, at a cost).
  if (!isPlainObject(event)) throw new InvalidArgumentError(`${eventField(index, '')} must be an object, got ${describe(event)}`);
  const { id, type, data, metadata } = event as Partial<EventData>;
  if (typeof id !== 'string' || !UUID.test(id)) throw new InvalidArgumentError(`${eventField(index, '.id')} must be a UUID, got ${describe(id)}`);
  if (typeof type !== 'string' || type.length === 0) throw new InvalidArgumentError(`${eventField(index, '.type')} must be a non-empty string, got ${describe(type)}`);
  if (metadata instanceof Uint8Array) {
    return { id: id.toLowerCase(), type, data: dataOf(data, index), metadata: metadata.length === 0 ? null : bytesCopy(metadata) };
  }
  if (metadata !== undefined && !isPlainObject(metadata)) {
    throw new InvalidArgumentError(`${eventField(index, '.metadata')} must be a plain object or a Uint8Array, got ${describe(metadata)}`);
  }
  const metadataText = metadata === undefined ? null : isJson(metadata) ? JSON.stringify(metadata) : toJsonText(metadata, eventField(index, '.metadata'));
  return {
    id: id.toLowerCase(),
    type,
    data: dataOf(data, index),
    metadata: metadataText === '{}' ? null : metadataText,
  };
}

/** A binary event's bytes (copied: the caller may reuse its buffer before the write), else the JSON text. */
function dataOf(data: unknown, index: number): string | Uint8Array {
  return data instanceof Uint8Array ? bytesCopy(data) : dataText(data, index);
}

/** A plain Uint8Array copy: what the store keeps and returns, whatever subclass (Buffer) came in. */
function bytesCopy(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(bytes);
}

/** An event's data as JSON text, reusing the text of any deeply frozen object it holds at its top level. */
function dataText(data: unknown, index: number): string {
  if (isPlainObject(data) && holdsFrozenObject(data)) {
    const spliced = splicedJsonText(data);
    if (spliced !== undefined) return spliced;
  }
  return isJson(data) ? JSON.stringify(data) : toJsonText(data, eventField(index, '.data'));
}

/**
 * JSON texts of deeply frozen JSON objects, by identity: such an object cannot change, so it is
 * serialised (and checked) once. The engine puts one in every WorkflowStarted (the definition
 * snapshot, frozen by validation): ~4 KB of JSON that otherwise cost each start ~15 µs.
 */
const frozenTexts = new WeakMap<object, string>();
/** Frozen objects found not to qualify (a mutable child, or not JSON): not checked again. */
const notCacheable = new WeakSet<object>();

function holdsFrozenObject(data: Record<string, unknown>): boolean {
  for (const key in data) {
    const value = data[key];
    if (typeof value === 'object' && value !== null && Object.isFrozen(value)) return true;
  }
  return false;
}

function frozenText(value: object): string | undefined {
  const known = frozenTexts.get(value);
  if (known !== undefined || notCacheable.has(value)) return known;
  if (!isDeepFrozen(value, 0) || !isJson(value, 1)) {
    notCacheable.add(value);
    return undefined;
  }
  const text = JSON.stringify(value);
  frozenTexts.set(value, text);
  return text;
}

/** Frozen all the way down, with data properties only (a getter could answer differently later). */
function isDeepFrozen(value: unknown, depth: number): boolean {
  if (typeof value !== 'object' || value === null) return true;
  if (depth > 512 || !Object.isFrozen(value)) return false;
  for (const key of Object.keys(value)) {
    const property = Object.getOwnPropertyDescriptor(value, key);
    if (!property || !('value' in property) || !isDeepFrozen(property.value, depth + 1)) return false;
  }
  return true;
}

/** The text JSON.stringify would give (same key order), with cached texts for frozen values; undefined if any part is not JSON. */
function splicedJsonText(data: Record<string, unknown>): string | undefined {
  let text = '{';
  for (const key of Object.keys(data)) {
    const value = data[key];
    let part = typeof value === 'object' && value !== null && Object.isFrozen(value) ? frozenText(value) : undefined;
    if (part === undefined) {
      if (!isJson(value, 1)) return undefined;
      part = JSON.stringify(value);
    }
    text += `${text.length === 1 ? '' : ','}${JSON.stringify(key)}:${part}`;
  }
  return `${text}}`;
}

function eventField(index: number, suffix: string): string {
  return `events[${index}]${suffix}`;
}

/**
 * JSON.stringify that refuses what JSON cannot represent faithfully instead of silently dropping or
 * changing it: undefined, functions, symbols, bigint, NaN/Infinity, class instances (Date too), objects
 * with a toJSON method, cycles. `field` names the value in the error (`events[0].data`).
 */
export function toJsonText(value: unknown, field: string): string {
  // Hot path: a walk that allocates nothing, then a plain stringify. Only a value that fails the
  // walk takes the slow path below, which finds and names the offending field.
  if (isJson(value)) return JSON.stringify(value);
  let problem: string | undefined;
  // The path of every object visited, so that a problem is named by its full path.
  const paths = new Map<unknown, string>();
  const check = function (this: unknown, key: string, inner: unknown): unknown {
    if (problem !== undefined) return undefined;
    // `inner` is what toJSON made of the value (a Date is a string by now): judge the value itself.
    const raw = (this as Record<string, unknown>)[key];
    // The first call is for the root value itself, under the empty key.
    const path = key === '' ? field : `${paths.get(this) ?? field}${keyPath(this, key)}`;
    const reason = jsonProblem(raw);
    if (reason !== undefined) problem = `${path} ${reason}`;
    else if (typeof inner === 'object' && inner !== null) paths.set(inner, path);
    return inner;
  };
  let text: string | undefined;
  try {
    text = JSON.stringify(value, check);
  } catch (error) {
    if (problem === undefined) {
      const cyclic = error instanceof TypeError && /circular/i.test(error.message);
      problem = `${field} ${cyclic ? 'contains a cycle' : `is not JSON-serialisable (${(error as Error).message})`}`;
    }
  }
  if (problem !== undefined) throw new InvalidArgumentError(`${problem}: event data and metadata must be JSON`);
  if (text === undefined) throw new InvalidArgumentError(`${field} is not JSON-serialisable`);
  return text;
}

/**
 * Is `value` plain JSON that stringifies faithfully: strings, booleans, finite numbers, null, arrays
 * and plain objects (no class instances, no toJSON), at most 512 levels deep (so a cycle is refused
 * too; the same limit as MAX_JSON_DEPTH for workflow data in src/workflow/json.ts)? Allocation-free;
 * the one JSON check shared by the store and the agent transports.
 */
export function isJson(value: unknown, depth = 0): value is Json {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return true;
    case 'number':
      return Number.isFinite(value);
    case 'object': {
      if (value === null) return true;
      if (depth >= 512) return false;
      if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i++) if (!isJson(value[i], depth + 1)) return false;
        return true;
      }
      if (!isPlainObject(value) || typeof value.toJSON === 'function') return false;
      for (const key in value) {
        if (Object.prototype.hasOwnProperty.call(value, key) && !isJson(value[key], depth + 1)) return false;
      }
      return true;
    }
    default:
      return false;
  }
}

function keyPath(holder: unknown, key: string): string {
  return Array.isArray(holder) ? `[${key}]` : `.${key}`;
}

function jsonProblem(value: unknown): string | undefined {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return undefined;
    case 'number':
      return Number.isFinite(value) ? undefined : `is ${value} (not a finite number)`;
    case 'object':
      if (value === null || Array.isArray(value)) return undefined;
      if (isPlainObject(value)) return typeof value.toJSON === 'function' ? 'has a toJSON method (it would be stored as what that returns)' : undefined;
      return `is an instance of ${value.constructor?.name ?? 'a class'} (not a plain object)`;
    default:
      return `is ${describe(value)}`;
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const prototype: unknown = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

function describe(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (value === null) return 'null';
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'bigint') return `a bigint (${value}n)`;
  if (typeof value === 'symbol') return 'a symbol';
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}…` : value);
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  return String(value);
}

export function validateExpectedRevision(expected: unknown, field = 'expectedRevision'): ExpectedRevision {
  if (expected === undefined) return 'any';
  if (expected === 'any' || expected === 'no_stream' || expected === 'stream_exists') return expected;
  if (typeof expected === 'bigint' && expected >= 0n) return expected;
  throw new InvalidArgumentError(`${field} must be 'any', 'no_stream', 'stream_exists' or a non-negative bigint, got ${describe(expected)}`);
}

/** A non-negative integer count (number or bigint); `undefined` means unlimited. */
export function validateCount(count: unknown, field = 'maxCount'): number {
  if (count === undefined) return Number.POSITIVE_INFINITY;
  if (typeof count === 'bigint' && count >= 0n) return count > BigInt(Number.MAX_SAFE_INTEGER) ? Number.POSITIVE_INFINITY : Number(count);
  if (typeof count === 'number' && Number.isInteger(count) && count >= 0) return count;
  throw new InvalidArgumentError(`${field} must be a non-negative integer, got ${describe(count)}`);
}

export function validateRevisionBound(revision: unknown, field = 'fromRevision'): 'start' | 'end' | bigint {
  if (revision === undefined) return 'start';
  if (revision === 'start' || revision === 'end') return revision;
  if (typeof revision === 'bigint' && revision >= 0n) return revision;
  throw new InvalidArgumentError(`${field} must be 'start', 'end' or a non-negative bigint, got ${describe(revision)}`);
}

export function validatePositionBound(position: unknown, field = 'fromPosition'): 'start' | 'end' | Position {
  if (position === undefined) return 'start';
  if (position === 'start' || position === 'end') return position;
  if (position !== null && typeof position === 'object') {
    const { commit, prepare } = position as Partial<Position>;
    if (typeof commit === 'bigint' && typeof prepare === 'bigint' && commit >= 0n && prepare >= 0n) return { commit, prepare };
  }
  throw new InvalidArgumentError(`${field} must be 'start', 'end' or a { commit, prepare } pair of non-negative bigints, got ${describe(position)}`);
}

export function validateDirection(direction: unknown): 'forwards' | 'backwards' {
  if (direction === undefined) return 'forwards';
  if (direction === 'forwards' || direction === 'backwards') return direction;
  throw new InvalidArgumentError(`direction must be 'forwards' or 'backwards', got ${describe(direction)}`);
}

export function validateCheckpointInterval(interval: unknown): number {
  if (interval === undefined) return 32;
  if (typeof interval === 'number' && Number.isInteger(interval) && interval >= 1) return interval;
  throw new InvalidArgumentError(`checkpointInterval must be a positive integer, got ${describe(interval)}`);
}

export function validateSkip(skip: unknown): ((stream: string, revision: bigint) => boolean) | undefined {
  if (skip === undefined || typeof skip === 'function') return skip as ((stream: string, revision: bigint) => boolean) | undefined;
  throw new InvalidArgumentError(`skip must be a function, got ${describe(skip)}`);
}

/** A writer id (AppendOptions.writer, SubscribeToAllOptions.excludeWriter): it travels as a gRPC header value. */
export function validateWriter(writer: unknown, field: string): string | undefined {
  if (writer === undefined) return undefined;
  if (typeof writer === 'string' && writer.length > 0 && writer.length <= MAX_WRITER_LENGTH && /^[\x20-\x7e]+$/.test(writer)) return writer;
  throw new InvalidArgumentError(`${field} must be 1 to ${MAX_WRITER_LENGTH} printable ASCII characters, got ${describe(writer)}`);
}

/** What a filter tests an event by: its stream name or its type. */
export interface CompiledFilter {
  readonly on: 'stream' | 'type';
  readonly matches: (value: string) => boolean;
  /** The prefixes of a prefix filter (a backend may test them itself), undefined for a regex. */
  readonly prefixes?: readonly string[];
}

/** Validate an `AllFilter` and compile it to a predicate; `undefined` means no filter. */
export function compileAllFilter(filter: AllFilter | undefined): CompiledFilter | undefined {
  if (filter === undefined) return undefined;
  if (filter === null || typeof filter !== 'object') throw new InvalidArgumentError(`filter must be an object, got ${describe(filter)}`);
  const keys = Object.keys(filter);
  if (keys.length !== 1) {
    throw new InvalidArgumentError(`filter must have exactly one of streamNamePrefix, streamNameRegex, eventTypePrefix, eventTypeRegex; got ${keys.join(', ') || 'none'}`);
  }
  const key = keys[0] as string;
  const value = (filter as Record<string, unknown>)[key];
  const on = key.startsWith('streamName') ? 'stream' : 'type';
  if (key === 'streamNamePrefix' || key === 'eventTypePrefix') {
    if (!Array.isArray(value) || value.length === 0 || !value.every((prefix) => typeof prefix === 'string')) {
      throw new InvalidArgumentError(`filter.${key} must be a non-empty array of strings`);
    }
    const prefixes = [...(value as string[])];
    return { on, prefixes, matches: (name) => prefixes.some((prefix) => name.startsWith(prefix)) };
  }
  if (key === 'streamNameRegex' || key === 'eventTypeRegex') {
    if (typeof value !== 'string') throw new InvalidArgumentError(`filter.${key} must be a string, got ${describe(value)}`);
    let regex: RegExp;
    try {
      regex = new RegExp(value);
    } catch (error) {
      throw new InvalidArgumentError(`filter.${key} is not a valid regular expression: ${(error as Error).message}`);
    }
    return { on, matches: (name) => regex.test(name) };
  }
  throw new InvalidArgumentError(`filter has unknown key "${key}"`);
}

export function validateStreamMetadata(metadata: unknown): StreamMetadata {
  if (!isPlainObject(metadata)) throw new InvalidArgumentError(`metadata must be a plain object, got ${describe(metadata)}`);
  const { maxCount, maxAge, truncateBefore, custom } = metadata as StreamMetadata;
  if (maxCount !== undefined && !(Number.isInteger(maxCount) && maxCount >= 1)) {
    throw new InvalidArgumentError(`metadata.maxCount must be a positive integer, got ${describe(maxCount)}`);
  }
  if (maxAge !== undefined && !(Number.isInteger(maxAge) && maxAge >= 1)) {
    throw new InvalidArgumentError(`metadata.maxAge must be a positive integer (seconds), got ${describe(maxAge)}`);
  }
  if (truncateBefore !== undefined && !(typeof truncateBefore === 'bigint' && truncateBefore >= 0n)) {
    throw new InvalidArgumentError(`metadata.truncateBefore must be a non-negative bigint, got ${describe(truncateBefore)}`);
  }
  if (custom !== undefined) {
    if (!isPlainObject(custom)) throw new InvalidArgumentError(`metadata.custom must be a plain object, got ${describe(custom)}`);
    toJsonText(custom, 'metadata.custom');
  }
  return { maxCount, maxAge, truncateBefore, custom };
}
