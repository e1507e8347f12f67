/** The shapes every route module shares: the fastify instance typed by the zod provider, and what routes read and write through. */
import type { FastifyBaseLogger, FastifyInstance, RawReplyDefaultExpression, RawRequestDefaultExpression, RawServerDefault } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { WorkflowCommander } from '../operations/commands.js';
import type { EventStore } from '../store/port.js';
import type { ReadModels } from './read-models.js';

export type ApiApp = FastifyInstance<RawServerDefault, RawRequestDefaultExpression, RawReplyDefaultExpression, FastifyBaseLogger, ZodTypeProvider>;

/** What the API asks of a hosting runtime (SagaRuntime satisfies it): operator commands, and taking on a fork it just wrote. */
export interface ApiRuntime extends WorkflowCommander {
  adopt?(workflowId: string): Promise<unknown>;
}

export interface ApiContext {
  readonly store: EventStore;
  readonly readModels: ReadModels;
  /** A runtime that hosts the workflows (the worker): operator commands go through it. Without one they are appended directly. */
  readonly runtime?: ApiRuntime;
  /** Epoch ms; the clock of elapsed times and ETAs. */
  readonly now: () => number;
}

export const API_PREFIX = '/api/v1';
