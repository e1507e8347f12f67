/**
 * `cadenza store info`: what the store holds and what it costs: events, workflows, definitions,
 * bytes (the file's on the embedded store, the events' JSON elsewhere) and bytes per workflow. One
 * pass over the log, read page by page: it takes a while on a big store (seconds per million events).
 */
import { existsSync, statSync } from 'node:fs';
import { DEFINITION_STREAM_PREFIX, WORKFLOW_STREAM_PREFIX } from '../../saga/stream/index.js';
import type { EventStore } from '../../store/port.js';

export interface StoreInfo {
  readonly store: string;
  readonly lastPosition: string | null;
  readonly lastEventAt: string | null;
  readonly events: number;
  readonly workflows: number;
  readonly definitions: number;
  /** JSON text of every event's data and metadata. */
  readonly payloadBytes: number;
  /** The SQLite file with its write-ahead log; null for a store that is not a file. */
  readonly fileBytes: number | null;
  /** fileBytes (else payloadBytes) over workflows; null without workflows. */
  readonly bytesPerWorkflow: number | null;
}

export async function storeInfo(store: EventStore, uri: string): Promise<StoreInfo> {
  let events = 0;
  let workflows = 0;
  let definitions = 0;
  let payloadBytes = 0;
  let last: { position: string; created: string } | undefined;
  for await (const event of store.readAll()) {
    events++;
    payloadBytes += bytesOf(event.data) + bytesOf(event.metadata);
    if (event.type === 'WorkflowStarted' && event.stream.startsWith(WORKFLOW_STREAM_PREFIX)) workflows++;
    else if (event.revision === 0n && event.stream.startsWith(DEFINITION_STREAM_PREFIX)) definitions++;
    last = { position: event.position.commit.toString(), created: event.created.toISOString() };
  }
  const fileBytes = sqliteFileBytes(uri);
  const total = fileBytes ?? payloadBytes;
  return {
    store: uri,
    lastPosition: last?.position ?? null,
    lastEventAt: last?.created ?? null,
    events,
    workflows,
    definitions,
    payloadBytes,
    fileBytes,
    bytesPerWorkflow: workflows === 0 ? null : Math.round(total / workflows),
  };
}

export function formatStoreInfo(info: StoreInfo): string {
  const size = info.fileBytes === null ? `${kib(info.payloadBytes)} of event JSON` : `${kib(info.fileBytes)} on disk`;
  const perWorkflow = info.bytesPerWorkflow === null ? '' : `, ${kib(info.bytesPerWorkflow)} per workflow`;
  const lastEvent = info.lastPosition === null ? 'empty' : `last event at position ${info.lastPosition} (${info.lastEventAt})`;
  return `${info.store}: ${count(info.events, 'event')}, ${count(info.workflows, 'workflow')}, ${count(info.definitions, 'definition')}, ${size}${perWorkflow}; ${lastEvent}\n`;
}

/** A binary body's bytes, a JSON one's text (empty metadata is stored as nothing). */
function bytesOf(body: unknown): number {
  if (body instanceof Uint8Array) return body.byteLength;
  if (body !== null && typeof body === 'object' && !Array.isArray(body) && Object.keys(body).length === 0) return 0;
  return Buffer.byteLength(JSON.stringify(body));
}

function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

function kib(bytes: number): string {
  return bytes < 1024 ? `${bytes} B` : `${(bytes / 1024).toFixed(1)} KiB`;
}

/** The size of a `sqlite:<path>` store's file and its write-ahead log. */
function sqliteFileBytes(uri: string): number | null {
  if (!uri.startsWith('sqlite:')) return null;
  const path = uri.slice('sqlite:'.length).split('?')[0] ?? '';
  if (path === '' || path === ':memory:' || !existsSync(path)) return null;
  const wal = `${path}-wal`;
  return statSync(path).size + (existsSync(wal) ? statSync(wal).size : 0);
}
