import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AuditFilter, queryAudit, withEventData } from '../../src/projections/audit-query.js';
import { catchUpProjections } from '../../src/projections/catch-up.js';
import { openReadModelDb, type ReadModelDb } from '../../src/projections/readmodel-db.js';
import { openStore } from '../../src/store/open.js';
import type { EventStore, JsonObject, RecordedEvent } from '../../src/store/port.js';
import { populate, readLog } from './fixtures/populate.js';
import { mulberry32 } from './fixtures/simulate.js';

let store: EventStore;
let db: ReadModelDb;
let log: RecordedEvent[];

beforeAll(async () => {
  store = await openStore('memory:');
  db = openReadModelDb(':memory:');
  // Appended in rounds, so that recorded times spread and time ranges cut the log in the middle.
  for (const round of [1, 2, 3, 4]) {
    await populate(store, { workflows: 40, seed: 60 + round, prefix: `r${round}` });
    await new Promise((resolve) => setTimeout(resolve, 3));
  }
  await catchUpProjections(store, db, ['audit-index'], { batchSize: 250 });
  log = await readLog(store);
});

afterAll(async () => {
  db.close();
  await store.close();
});

/** The brute-force answer: scan the whole log, reading each field from the raw event. */
function bruteForce(filter: AuditFilter): RecordedEvent[] {
  const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
  const matching = log.filter((e) => {
    const data = (e.data ?? {}) as Record<string, unknown>;
    const workflowId = str((e.metadata as JsonObject).workflowId) ?? str(data.workflowId) ?? (e.stream.startsWith('workflow-') ? e.stream.slice(9) : undefined);
    const agentId = str(data.agentId) ?? str((e.metadata as JsonObject).agentId) ?? (e.stream.startsWith('agent-') ? e.stream.slice(6) : undefined);
    const category = e.stream.split('-')[0];
    if (filter.workflowId !== undefined && workflowId !== filter.workflowId) return false;
    if (filter.correlationId !== undefined && (e.metadata as JsonObject).correlationId !== filter.correlationId) return false;
    if (filter.causationId !== undefined && (e.metadata as JsonObject).causationId !== filter.causationId) return false;
    if (filter.types !== undefined && !filter.types.includes(e.type)) return false;
    if (filter.agentId !== undefined && agentId !== filter.agentId) return false;
    if (filter.stepId !== undefined && data.stepId !== filter.stepId) return false;
    if (filter.stream !== undefined && (filter.stream.includes('-') ? e.stream !== filter.stream : category !== filter.stream)) return false;
    if (filter.since !== undefined && e.created < filter.since) return false;
    if (filter.until !== undefined && e.created >= filter.until) return false;
    return true;
  });
  if (filter.order === 'desc') matching.reverse();
  return matching.slice(0, filter.limit ?? 100);
}

function randomFilters(count: number): AuditFilter[] {
  const random = mulberry32(99);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const workflows = [...new Set(log.map((e) => (e.metadata as JsonObject).workflowId).filter((w): w is string => typeof w === 'string'))];
  const types = [...new Set(log.map((e) => e.type))];
  const agents = ['market-data-1', 'market-data-2', 'compliance-1', 'risk-assessment-2', 'trade-execution-1'];
  const streams = ['workflow', 'agent', `workflow-${pick(workflows)}`, 'agent-market-data-1'];
  const times = log.map((e) => e.created);
  const filters: AuditFilter[] = [];
  for (let i = 0; i < count; i++) {
    const filter: { -readonly [K in keyof AuditFilter]: AuditFilter[K] } = { limit: pick([1, 10, 100, 100_000]) };
    if (random() < 0.3) filter.workflowId = pick(workflows);
    if (random() < 0.3) filter.correlationId = `corr-${Math.floor(random() * 6)}`;
    if (random() < 0.4) filter.types = [pick(types), ...(random() < 0.3 ? [pick(types)] : [])];
    if (random() < 0.3) filter.agentId = pick(agents);
    if (random() < 0.2) filter.stepId = pick(['market-data', 'compliance', 'trade-execution']);
    if (random() < 0.3) filter.stream = pick(streams);
    if (random() < 0.3) filter.since = pick(times);
    if (random() < 0.3) filter.until = pick(times);
    if (random() < 0.3) filter.order = 'desc';
    filters.push(filter);
  }
  return filters;
}

describe('audit queries', () => {
  it('return exactly the events a brute-force scan of the log finds, for random filter combinations', () => {
    expect(log.length).toBeGreaterThan(2000);
    let nonEmpty = 0;
    for (const filter of randomFilters(300)) {
      const expected = bruteForce(filter).map((e) => e.id);
      const { entries } = queryAudit(db, filter);
      expect(entries.map((e) => e.eventId), JSON.stringify(filter)).toEqual(expected);
      if (expected.length > 0) nonEmpty += 1;
    }
    expect(nonEmpty).toBeGreaterThan(100);
  });

  it('pages through a result with the position cursor, forwards and backwards', () => {
    for (const order of ['asc', 'desc'] as const) {
      const filter = { stream: 'workflow', types: ['StepScheduled', 'StepFailed'], order };
      const all = bruteForce({ ...filter, limit: 100_000 }).map((e) => e.id);
      const paged: string[] = [];
      let after;
      do {
        const page = queryAudit(db, { ...filter, limit: 37, ...(after ? { after } : {}) });
        paged.push(...page.entries.map((e) => e.eventId));
        after = page.next;
      } while (after);
      expect(all.length).toBeGreaterThan(2 * 37);
      expect(paged).toEqual(all);
    }
  });

  it('gives times in ISO 8601 UTC and the events with their data on request', async () => {
    const { entries } = queryAudit(db, { types: ['WorkflowStarted'], limit: 3 });
    expect(entries).toHaveLength(3);
    for (const entry of entries) expect(entry.time).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    const withData = await withEventData(store, entries);
    expect(withData.map((e) => (e.data as { workflowId: string }).workflowId)).toEqual(entries.map((e) => e.workflowId));
    expect(withData[0]?.metadata.correlationId).toBe(entries[0]?.correlationId);
  });

  it('rejects a bad filter naming the field', () => {
    expect(() => queryAudit(db, { limit: 0 })).toThrow(/limit/);
  });
});
