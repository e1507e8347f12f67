/** The agent-health read model: fold, table, and the per-agent view with rates and percentiles. */
import type { Database } from 'better-sqlite3';
import { DocProjection } from '../../src/projections/doc-storage.js';
import { type LatencySummary, summarise } from '../shared/histogram.js';
import { WORKFLOW_STREAM_PREFIX } from '../../src/saga/stream/index.js';
import { AGENT_STREAM_PREFIX, type AgentHealthDoc, agentHealthFold, type AgentHealthInput, type AgentHealthReadModel, type CircuitStatus } from './fold.js';

export const AGENT_HEALTH_TABLE = 'rm_agent_health';

export function agentHealthProjection(): DocProjection<AgentHealthInput, AgentHealthReadModel> {
  return new DocProjection({
    name: 'agent-health',
    version: 1,
    filter: { streamNamePrefix: [AGENT_STREAM_PREFIX, WORKFLOW_STREAM_PREFIX] },
    table: AGENT_HEALTH_TABLE,
    fold: agentHealthFold,
    columns: { kind: { type: 'TEXT', of: (_key, doc) => doc.kind, indexed: true } },
  });
}

export interface AgentHealthView {
  readonly agentId: string;
  readonly registered: boolean;
  readonly capabilities: readonly string[];
  readonly circuit: CircuitStatus;
  readonly circuitSince?: string;
  readonly reopenAt?: string;
  readonly circuitReason?: string;
  readonly inFlight: number;
  readonly calls: { readonly succeeded: number; readonly failed: number; readonly timedOut: number };
  /** Over all finished calls; undefined before the first. */
  readonly successRate: number | undefined;
  /** Over the last (up to 50) finished calls. */
  readonly recentSuccessRate: number | undefined;
  readonly latencyMs: LatencySummary;
  readonly lastSeenAt?: string;
}

const iso = (ms: number | undefined): { readonly at?: string } => (ms === undefined ? {} : { at: new Date(ms).toISOString() });

export function agentHealthView(doc: AgentHealthDoc): AgentHealthView {
  const finished = doc.succeeded + doc.failed + doc.timedOut;
  const recentOk = [...doc.recent].filter((o) => o === 's').length;
  const circuitSince = iso(doc.circuitSince).at;
  const reopenAt = iso(doc.reopenAt).at;
  const lastSeenAt = iso(doc.lastSeenAt).at;
  return {
    agentId: doc.agentId,
    registered: doc.registered,
    capabilities: doc.capabilities,
    circuit: doc.circuit,
    ...(circuitSince === undefined ? {} : { circuitSince }),
    ...(reopenAt === undefined ? {} : { reopenAt }),
    ...(doc.circuitReason === undefined ? {} : { circuitReason: doc.circuitReason }),
    inFlight: doc.inFlight,
    calls: { succeeded: doc.succeeded, failed: doc.failed, timedOut: doc.timedOut },
    successRate: finished === 0 ? undefined : doc.succeeded / finished,
    recentSuccessRate: doc.recent.length === 0 ? undefined : recentOk / doc.recent.length,
    latencyMs: summarise(doc.latency),
    ...(lastSeenAt === undefined ? {} : { lastSeenAt }),
  };
}

export function readAgentHealth(db: Database): AgentHealthView[] {
  const docs = db.prepare(`SELECT doc FROM ${AGENT_HEALTH_TABLE} WHERE kind = 'agent' ORDER BY key`).pluck().all() as string[];
  return docs.map((json) => agentHealthView(JSON.parse(json) as AgentHealthDoc));
}
