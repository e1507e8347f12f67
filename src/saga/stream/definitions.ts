/**
 * Definitions stored once per hash: `definition-<hex>` holds one event, the validated definition,
 * and every WorkflowStarted refers to it by `definitionHash` instead of carrying ~4 KB inline
 * (docs/scaling.md). The one resolver: what every reader of WorkflowStarted goes through before it
 * decodes one (`definitionsReady`), with one cache for the process.
 *
 * The cache is keyed by hash alone, whatever store a definition came from: a definition is checked
 * against its hash when it is loaded, so the same hash is the same definition everywhere. Saving is
 * idempotent (expected revision no_stream, a deterministic event id); a crash between saving a
 * definition and appending the start leaves an unused definition stream, nothing worse.
 */
import { StreamNotFoundError, WrongExpectedVersionError } from '../../store/errors.js';
import type { EventStore, Json, RecordedEvent } from '../../store/port.js';
import type { WorkflowDefinition } from '../../workflow/definition.js';
import { definitionHash } from '../../workflow/hash.js';
import { validateDefinition } from '../../workflow/validate.js';
import { EventParseError } from '../events.js';
import { parse as parseUuid } from 'uuid';
import { uuidV5 } from '../uuid-v5.js';

export const DEFINITION_STREAM_PREFIX = 'definition-';
export const DEFINITION_STORED = 'WorkflowDefinitionStored';
/** Namespace of the definition event's id (uuid v5 of the hash). Never change it. */
const DEFINITION_ID_NAMESPACE = parseUuid('6b1f3c2e-8a4d-5e9f-b7c1-0d2e4f6a8b9c');

/** Definitions remembered by hash; more than this many distinct ones are loaded again when needed. */
const CACHE_LIMIT = 1_000;
const cache = new Map<string, WorkflowDefinition>();
/** Per store: hashes known to be stored there (saved or read), and saves in progress. */
const saved = new WeakMap<EventStore, Map<string, Promise<void> | true>>();

export function definitionStream(hash: string): string {
  return `${DEFINITION_STREAM_PREFIX}${hash.startsWith('sha256:') ? hash.slice('sha256:'.length) : hash}`;
}

/** The definition under `hash` if this process has it: the lookup the codec decodes with. */
export function knownDefinition(hash: string): WorkflowDefinition | undefined {
  return cache.get(hash);
}

function remember(hash: string, definition: WorkflowDefinition): void {
  if (cache.has(hash)) return;
  if (cache.size >= CACHE_LIMIT) cache.delete(cache.keys().next().value as string);
  cache.set(hash, definition);
}

function savedIn(store: EventStore): Map<string, Promise<void> | true> {
  let known = saved.get(store);
  if (!known) saved.set(store, (known = new Map()));
  return known;
}

/**
 * Stores `definition` under `hash` unless this process knows it is there. Call it before appending
 * a WorkflowStarted that refers to it, and await what it returns (undefined: nothing to wait for).
 */
export function saveDefinition(store: EventStore, definition: WorkflowDefinition, hash: string): Promise<void> | undefined {
  const known = savedIn(store);
  const state = known.get(hash);
  if (state === true) return undefined;
  if (state !== undefined) return state;
  remember(hash, definition);
  const saving = store
    .append(definitionStream(hash), [{ id: uuidV5(hash, DEFINITION_ID_NAMESPACE), type: DEFINITION_STORED, data: definition as unknown as Json }], { expectedRevision: 'no_stream' })
    .then(
      () => undefined,
      (error: unknown) => {
        // Stored already (by another process, or before a restart): content-addressed, so it is the same.
        if (!(error instanceof WrongExpectedVersionError)) throw error;
      },
    )
    .then(
      () => void known.set(hash, true),
      (error: unknown) => {
        known.delete(hash);
        throw error;
      },
    );
  known.set(hash, saving);
  return saving;
}

/**
 * Before decoding `recorded`: undefined when it can be decoded now (not a WorkflowStarted by
 * reference, or its definition is in memory), else a promise that loads its definition.
 */
export function definitionsReady(store: EventStore, recorded: RecordedEvent): Promise<void> | undefined {
  if (recorded.type !== 'WorkflowStarted') return undefined;
  const data = recorded.data as { definition?: unknown; definitionHash?: unknown } | null;
  if (data === null || typeof data !== 'object' || 'definition' in data || typeof data.definitionHash !== 'string') return undefined;
  if (cache.has(data.definitionHash)) return undefined;
  return loadDefinition(store, data.definitionHash).then(() => undefined);
}

/**
 * The definition stored under `hash`: from memory, else read, validated and checked against the
 * hash. Throws EventParseError when the store has no such definition or it does not match.
 */
export async function loadDefinition(store: EventStore, hash: string): Promise<WorkflowDefinition> {
  const cached = cache.get(hash);
  if (cached) return cached;
  const stream = definitionStream(hash);
  let stored: unknown;
  try {
    for await (const event of store.readStream(stream, { maxCount: 1 })) stored = event.data;
  } catch (error) {
    if (!(error instanceof StreamNotFoundError)) throw error;
  }
  if (stored === undefined) throw new EventParseError('WorkflowStarted', `Definition ${hash} is not in the store (stream ${stream} is missing)`);
  let definition: WorkflowDefinition;
  try {
    definition = validateDefinition(stored);
  } catch (error) {
    throw new EventParseError('WorkflowStarted', `Definition ${hash} in ${stream} is not a valid definition: ${(error as Error).message}`);
  }
  const actual = definitionHash(definition);
  if (actual !== hash) throw new EventParseError('WorkflowStarted', `Definition in ${stream} has hash ${actual}, not ${hash}`);
  remember(hash, definition);
  savedIn(store).set(hash, true);
  return definition;
}
