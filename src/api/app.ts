/** The shapes every route module shares: the fastify instance typed by the zod provider, and what routes read and write through. */
import type { FastifyBaseLogger, FastifyInstance, RawReplyDefaultExpression, RawRequestDefaultExpression, RawServerDefault } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { WorkflowCommander } from '../operations/commands.js';
import type { RuntimeStats, StartWorkflowOptions, TransitionsListener } from '../saga/runtime/index.js';
import type { EventStore } from '../store/port.js';
import type { WorkflowDefinition } from '../workflow/definition.js';
import type { Json } from '../workflow/json.js';
import type { ReadModels } from './read-models.js';

export type ApiApp = FastifyInstance<RawServerDefault, RawRequestDefaultExpression, RawReplyDefaultExpression, FastifyBaseLogger, ZodTypeProvider>;

/**
 * What the API asks of a hosting runtime (SagaRuntime satisfies it): operator commands, taking on a
 * fork it just wrote, starting workflows, and its live figures for `/metrics`.
 */
export interface ApiRuntime extends WorkflowCommander {
  adopt?(workflowId: string): Promise<unknown>;
  startWorkflow?(definition: WorkflowDefinition, input: Json, options?: StartWorkflowOptions): Promise<{ workflowId: string; queued?: boolean }>;
  stats?(): Pick<RuntimeStats, 'inFlight' | 'backlog' | 'maxInFlight' | 'partitions'>;
  onAppend?(listener: (seconds: number) => void): () => void;
  /** Every decision the runtime appends and event it observes, in the order it folds them: `/metrics` counts from these. */
  onTransitions?(listener: TransitionsListener): () => void;
}

/** Per-agent calls in flight in this process (the registry's `stats` satisfies it). */
export interface AgentCallStats {
  all(): readonly { readonly agentId: string; readonly inFlight: number }[];
}

/** An engine in the server's process (the worker's; `Engine` satisfies it): its runtime, its hosted definitions, its agents' calls. */
export interface HostedEngine {
  readonly runtime: ApiRuntime;
  readonly definitions: readonly WorkflowDefinition[];
  readonly registry?: { readonly stats: AgentCallStats };
}

export interface ApiContext {
  readonly store: EventStore;
  readonly readModels: ReadModels;
  /** A runtime that hosts the workflows (the worker): operator commands go through it. Without one they are appended directly. */
  readonly runtime?: ApiRuntime;
  /** The definitions the hosting engine runs (`/definitions`, starts); undefined without one. */
  readonly definitions?: readonly WorkflowDefinition[];
  /** Epoch ms; the clock of elapsed times and ETAs. */
  readonly now: () => number;
}

export const API_PREFIX = '/api/v1';
