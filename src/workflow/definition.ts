/**
 * The workflow definition format: plain JSON data, validated by zod. Defaults are filled in by
 * the schema, so a validated definition is complete and hashes the same however it was written.
 */
import { z } from 'zod';
import { jsonSchema } from './json.js';

const stepIdSchema = z.string().regex(/^[A-Za-z][A-Za-z0-9_-]*$/, 'must start with a letter and hold only letters, digits, "_" and "-"');
const pathSchema = z.string().min(1, 'must not be empty');

export const retryPolicySchema = z.strictObject({
  /** Attempts per round, the first included (1 = no retry). */
  maxAttempts: z.number().int().min(1).max(1000).default(3),
  initialDelayMs: z.number().int().min(0).default(1000),
  multiplier: z.number().min(1).max(100).default(2),
  maxDelayMs: z.number().int().min(0).default(30_000),
  /** Fraction of each delay drawn at random and taken off (0 = none, 1 = anywhere in [0, delay]). */
  jitter: z.number().min(0).max(1).default(0.2),
});

/** Input mapping: target key (dotted path in the call's input) to a source path or `{ value }` literal. */
export const inputMappingSchema = z.record(pathSchema, z.union([pathSchema, z.strictObject({ value: jsonSchema })]));
/** Output mapping: workflow data path to a path in the step's output (`'$'` = the whole output). */
export const outputMappingSchema = z.record(pathSchema, pathSchema);

export const compensationSchema = z.strictObject({
  action: z.string().min(1),
  /** Defaults to the step's capability. */
  capability: z.string().min(1).optional(),
  /** May read `$output.x` (the step's output), `$input.x` (the step's input) and workflow data. */
  input: inputMappingSchema.default({}),
  /** Defaults to the step's timeout. */
  timeoutMs: z.number().int().positive().optional(),
  retry: retryPolicySchema.default(() => retryPolicySchema.parse({ maxAttempts: 5 })),
  /**
   * When the compensation runs. 'attempted' (the default): whenever the step's action may have
   * taken effect, that is, once any attempt was sent to an agent, even if the step then failed or
   * timed out (an order placed just before a timeout must still be cancelled). 'succeeded': only
   * after the step succeeded, for actions that are known to take no effect when they fail.
   */
  when: z.enum(['attempted', 'succeeded']).default('attempted'),
});

/**
 * Which idempotency key an attempt carries. 'perOperation' (the default): every attempt of the step
 * carries the same key, `<workflowId>:<stepId>`, so an agent that honours it makes the action take
 * effect once, however often it is retried or re-sent after a crash. 'perAttempt': a fresh key per
 * attempt (`<workflowId>:<stepId>:<attempt>`), for actions that are naturally idempotent or must
 * not be deduplicated (a poll, a read of the latest price).
 */
export const idempotencyKeyScopeSchema = z.enum(['perOperation', 'perAttempt']);

export const stepSchema = z.strictObject({
  id: stepIdSchema,
  action: z.string().min(1),
  capability: z.string().min(1),
  description: z.string().optional(),
  input: inputMappingSchema.default({}),
  output: outputMappingSchema.default({}),
  dependsOn: z.array(stepIdSchema).default([]),
  timeoutMs: z.number().int().positive().max(7 * 24 * 3600 * 1000).default(30_000),
  retry: retryPolicySchema.default(() => retryPolicySchema.parse({})),
  compensation: compensationSchema.optional(),
  idempotencyKey: idempotencyKeyScopeSchema.default('perOperation'),
  /**
   * How long an attempt may wait for an agent with the capability to be available before the step
   * fails (NO_AGENT, not retried). Default: it waits until one registers, however long.
   */
  scheduleToStartTimeoutMs: z.number().int().positive().optional(),
  /** A step whose failure does not fail the workflow: it is skipped and its dependents still run. */
  optional: z.boolean().default(false),
});

/**
 * The most steps one definition may have. Measured (docs/benchmarks.md, "Wide workflows"): at
 * 10,000 a step costs what it costs in a workflow of 100, and the definition, which travels in the
 * WorkflowStarted event, is a few MB of JSON; larger definitions are refused, not slowly run.
 */
export const MAX_STEPS_PER_DEFINITION = 10_000;

export const failureStrategySchema = z.enum(['compensate', 'fail', 'pause']);

export const workflowDefinitionSchema = z.strictObject({
  name: z.string().min(1),
  version: z.number().int().min(1).default(1),
  description: z.string().default(''),
  /** Workflow data before any step ran. The start input is added under `input`. */
  initialData: z.record(z.string(), jsonSchema).default({}),
  input: z.strictObject({
    /** Dotted paths the start input must hold. */
    required: z.array(pathSchema).default([]),
  }).default({ required: [] }),
  failureStrategy: failureStrategySchema.default('compensate'),
  limits: z.strictObject({
    /** At most this many steps of one workflow run at once (default: no limit). */
    maxParallelSteps: z.number().int().positive().optional(),
  }).default({}),
  steps: z.array(stepSchema).min(1, 'a workflow needs at least one step'),
});

export type RetryPolicy = z.output<typeof retryPolicySchema>;
export type InputMapping = z.output<typeof inputMappingSchema>;
export type OutputMapping = z.output<typeof outputMappingSchema>;
export type CompensationDefinition = z.output<typeof compensationSchema>;
export type StepDefinition = z.output<typeof stepSchema>;
export type IdempotencyKeyScope = z.output<typeof idempotencyKeyScopeSchema>;
export type FailureStrategy = z.output<typeof failureStrategySchema>;
/** A validated, complete definition (every default filled in). */
export type WorkflowDefinition = z.output<typeof workflowDefinitionSchema>;
/** What a definition may be written as: defaults may be left out. */
export type WorkflowDefinitionInput = z.input<typeof workflowDefinitionSchema>;
export type StepDefinitionInput = z.input<typeof stepSchema>;
