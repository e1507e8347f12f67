/**
 * Claims of docs/projections.md that no other test checked (the audit in docs/testing.md): where
 * read models live by default and how durably, a full batch per transaction during catch-up, a
 * projection whose streams are rare still moving forward, and where the audit index takes its ids.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { queryAudit } from '../../src/projections/audit-query.js';
import { listPoison } from '../../src/projections/bookkeeping.js';
import { createProjection } from '../../src/projections/catalogue.js';
import { defaultReadModelPath, openReadModelDb, type ReadModelDb } from '../../src/projections/readmodel-db.js';
import { ProjectionRunner, type CommitProgress } from '../../src/projections/runner.js';
import { openStore } from '../../src/store/open.js';
import type { EventStore, RecordedEvent } from '../../src/store/port.js';
import { auditRowOf } from '../../projections/audit-index/row.js';
import { AUDIT_TABLE } from '../../projections/audit-index/storage.js';

describe('"Where the read models live"', () => {
  it('defaultReadModelPath: CADENZA_READMODELS, :memory: for memory:, next to the store file, .cadenza for esdb://', () => {
    const none = {};
    expect(defaultReadModelPath('sqlite:/var/x/cadenza.db', { CADENZA_READMODELS: '/elsewhere/rm.db' })).toBe('/elsewhere/rm.db');
    expect(defaultReadModelPath('memory:', none)).toBe(':memory:');
    expect(defaultReadModelPath('sqlite:/var/x/cadenza.db?durability=normal', none)).toBe('/var/x/readmodels.db');
    expect(defaultReadModelPath('sqlite:/var/x/store.db', none)).toBe('/var/x/readmodels.db');
    expect(defaultReadModelPath('sqlite:/var/x/events.db', none)).toBe('/var/x/readmodels.db');
    expect(defaultReadModelPath('sqlite:/var/x/orders.db', none)).toBe('/var/x/orders.readmodels.db');
    expect(defaultReadModelPath('esdb://localhost:2113?tls=false', none)).toBe(join('.cadenza', 'readmodels.db'));
    // No --store: CADENZA_STORE, else the default store's folder.
    expect(defaultReadModelPath(undefined, { CADENZA_STORE: 'sqlite:/srv/c/events.db' })).toBe('/srv/c/readmodels.db');
    expect(defaultReadModelPath(undefined, none)).toBe(join('.cadenza', 'readmodels.db'));
  });

  it('a better-sqlite3 file of its own, in WAL mode with synchronous=NORMAL', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cadenza-rm-'));
    const db = openReadModelDb(join(dir, 'sub', 'readmodels.db'));
    try {
      expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
      expect(db.pragma('synchronous', { simple: true })).toBe(1); // NORMAL
    } finally {
      db.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the runner', () => {
  let store: EventStore;
  let db: ReadModelDb;

  beforeEach(async () => {
    store = await openStore('memory:');
    db = openReadModelDb(':memory:');
  });

  afterEach(async () => {
    db.close();
    await store.close();
  });

  async function appendMany(stream: (i: number) => string, count: number): Promise<void> {
    for (let i = 0; i < count; i += 500) {
      const size = Math.min(500, count - i);
      await Promise.all(Array.from({ length: size }, (_, j) => store.append(stream(i + j), [{ id: randomUUID(), type: 'Noted', data: { n: i + j }, metadata: {} }])));
    }
  }

  it('"Batches ... up to batchSize (default 2,000). During catch-up that is a full batch per transaction"', async () => {
    await appendMany((i) => `ledger-${i % 7}`, 4_500);
    const commits: CommitProgress[] = [];
    const runner = new ProjectionRunner(store, db, createProjection('audit-index'), { onCommit: (progress) => commits.push(progress) });
    await runner.catchUp();
    // A batch is 2,000 messages, the subscription's filter checkpoints (one per 1,000 events) among them.
    const sizes = commits.map((c) => c.events).filter((n) => n > 0);
    expect(sizes).toHaveLength(3);
    expect(sizes.slice(0, 2).every((n) => n >= 1_996 && n <= 2_000)).toBe(true);
    expect(runner.status().eventsApplied).toBe(4_500);
  });

  it('"SQLite errors are not poison: they abort the batch": nothing recorded, the checkpoint stays', async () => {
    await appendMany((i) => `ledger-${i % 3}`, 10);
    const runner = new ProjectionRunner(store, db, createProjection('audit-index'));
    db.exec(`DROP TABLE ${AUDIT_TABLE}`);
    await expect(runner.catchUp()).rejects.toThrow(/no such table/);
    expect(listPoison(db)).toEqual([]);
    expect(runner.status()).toMatchObject({ checkpoint: undefined, eventsApplied: 0 });
  });

  it('"a projection whose streams are rare still moves forward": its checkpoint passes other streams\' events', async () => {
    await appendMany((i) => `ledger-${i}`, 3_000);
    const runner = new ProjectionRunner(store, db, createProjection('workflow-status'));
    const status = await runner.catchUp();
    expect(status.eventsApplied).toBe(0);
    // Filter checkpoints come every 1,000 events considered (RunnerOptions.checkpointInterval).
    expect(status.checkpoint?.commit).toBe(3_000n);
    expect(await runner.lag()).toMatchObject({ events: 0, capped: false });
  });
});

describe('audit queries', () => {
  it('"limit (default 100, at most 100,000)"', async () => {
    const store = await openStore('memory:');
    const db = openReadModelDb(':memory:');
    try {
      await store.append('ledger-1', Array.from({ length: 150 }, (_, n) => ({ id: randomUUID(), type: 'Noted', data: { n }, metadata: {} })));
      await new ProjectionRunner(store, db, createProjection('audit-index')).catchUp();
      const page = queryAudit(db, {});
      expect(page.entries).toHaveLength(100);
      expect(page.next).toEqual(page.entries[99]?.position);
      expect(queryAudit(db, { limit: 100_000 }).entries).toHaveLength(150);
      expect(() => queryAudit(db, { limit: 100_001 })).toThrow(/limit/);
    } finally {
      db.close();
      await store.close();
    }
  });
});

describe('the audit index row', () => {
  const event = (stream: string, data: object, metadata: object): RecordedEvent =>
    ({ stream, data, metadata, id: randomUUID(), type: 'T', revision: 0n, position: { commit: 1n, prepare: 1n }, created: new Date(0) }) as unknown as RecordedEvent;

  it('"category (the stream name up to its first -)"', () => {
    expect(auditRowOf(event('workflow-42-fork-1', {}, {})).category).toBe('workflow');
    expect(auditRowOf(event('ledger', {}, {})).category).toBe('ledger');
  });

  it('takes the workflow id from metadata, then data, then the stream name; agent and step ids from data, then metadata', () => {
    expect(auditRowOf(event('workflow-s', { workflowId: 'd' }, { workflowId: 'm' })).workflowId).toBe('m');
    expect(auditRowOf(event('workflow-s', { workflowId: 'd' }, {})).workflowId).toBe('d');
    expect(auditRowOf(event('workflow-s', {}, {})).workflowId).toBe('s');
    expect(auditRowOf(event('agent-a', { agentId: 'd', stepId: 'sd' }, { agentId: 'm', stepId: 'sm' }))).toMatchObject({ agentId: 'd', stepId: 'sd' });
    expect(auditRowOf(event('agent-a', {}, { agentId: 'm', stepId: 'sm' }))).toMatchObject({ agentId: 'm', stepId: 'sm' });
    expect(auditRowOf(event('agent-a', {}, {})).agentId).toBe('a');
  });

  it('takes correlation and causation ids from metadata only (also as $correlationId, $causationId); a workflow\'s correlation defaults to its id', () => {
    expect(auditRowOf(event('workflow-w', { correlationId: 'd', causationId: 'd' }, {}))).toMatchObject({ correlationId: 'w', causationId: null });
    expect(auditRowOf(event('orders-1', {}, { $correlationId: 'c', $causationId: 'k' }))).toMatchObject({ correlationId: 'c', causationId: 'k' });
    expect(auditRowOf(event('orders-1', {}, {}))).toMatchObject({ correlationId: null, causationId: null, workflowId: null });
  });
});
