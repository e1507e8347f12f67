/**
 * Definition validation: the zod schema first (types, ranges, unknown fields), then the checks a
 * schema cannot express: duplicate ids, unknown dependencies, cycles, retry ranges, and mappings
 * that read a path nothing can have produced by the time the step runs.
 */
import type { ZodError } from 'zod';
import { MAX_STEPS_PER_DEFINITION, workflowDefinitionSchema, type InputMapping, type RetryPolicy, type StepDefinition, type WorkflowDefinition } from './definition.js';
import { findCycle, graphOf } from './graph.js';
import { hasPath, parseSourcePath } from './mapping.js';

export interface DefinitionIssue {
  /** The step the issue is about; absent for workflow-level fields. */
  readonly stepId?: string;
  /** Dotted field path within the step (or the workflow), e.g. `retry.jitter`, `input.symbol`. */
  readonly field: string;
  readonly message: string;
}

export class DefinitionError extends Error {
  constructor(
    readonly issues: readonly DefinitionIssue[],
    readonly workflowName?: string,
  ) {
    super(`Invalid workflow definition${workflowName ? ` "${workflowName}"` : ''}: ${issues.map(describeIssue).join('; ')}`);
    this.name = 'DefinitionError';
  }
}

export function describeIssue(issue: DefinitionIssue): string {
  return `${issue.stepId === undefined ? '' : `step "${issue.stepId}" `}${issue.field}: ${issue.message}`;
}

/** Parses and checks a definition; returns it complete (defaults filled in) or throws `DefinitionError`. */
export function validateDefinition(input: unknown): WorkflowDefinition {
  // A definition this function returned is deeply frozen, so it is still valid: skip the work
  // (the runtime validates once per start, and decide again; a saga starts thousands of times).
  if (typeof input === 'object' && input !== null && validated.has(input)) return input as WorkflowDefinition;
  const name = typeof (input as { name?: unknown } | null)?.name === 'string' ? (input as { name: string }).name : undefined;
  // Before the schema: a definition far too large is refused without being read through.
  const steps = (input as { steps?: unknown } | null)?.steps;
  if (Array.isArray(steps) && steps.length > MAX_STEPS_PER_DEFINITION) {
    throw new DefinitionError([{ field: 'steps', message: `${steps.length} steps, more than the ${MAX_STEPS_PER_DEFINITION} a definition may have` }], name);
  }
  const parsed = workflowDefinitionSchema.safeParse(input);
  // Dependency problems are reported beside schema problems: a file is fixed in one pass.
  if (!parsed.success) throw new DefinitionError([...zodIssues(parsed.error, input), ...dependencyIssues(rawSteps(input))], name);
  const issues = graphIssues(parsed.data);
  if (issues.length > 0) throw new DefinitionError(issues, name);
  const definition = deepFreeze(parsed.data);
  validated.add(definition);
  return definition;
}

/** Definitions returned by validateDefinition (deeply frozen, so they cannot have changed since). */
const validated = new WeakSet<object>();

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

function zodIssues(error: ZodError, input: unknown): DefinitionIssue[] {
  const steps = (input as { steps?: unknown } | null)?.steps;
  return error.issues.map((issue) => {
    const [head, index, ...rest] = issue.path.map(String);
    if (head === 'steps' && index !== undefined) {
      const raw = Array.isArray(steps) ? (steps[Number(index)] as { id?: unknown } | undefined) : undefined;
      const stepId = typeof raw?.id === 'string' ? raw.id : `#${index}`;
      return { stepId, field: rest.join('.') || '(step)', message: issue.message };
    }
    return { field: issue.path.map(String).join('.') || '(definition)', message: issue.message };
  });
}

function graphIssues(def: WorkflowDefinition): DefinitionIssue[] {
  const issues = dependencyIssues(def.steps);
  for (const step of def.steps) {
    issues.push(...retryIssues(step.id, 'retry', step.retry));
    if (step.compensation) issues.push(...retryIssues(step.id, 'compensation.retry', step.compensation.retry));
  }
  if (issues.length === 0) issues.push(...mappingIssues(def));
  return issues;
}

interface StepLinks {
  readonly id: string;
  readonly dependsOn: readonly string[];
}

/** Duplicate ids, unknown dependencies and cycles. */
function dependencyIssues(steps: readonly StepLinks[]): DefinitionIssue[] {
  const issues: DefinitionIssue[] = [];
  const ids = new Set<string>();
  for (const step of steps) {
    if (ids.has(step.id)) issues.push({ stepId: step.id, field: 'id', message: `duplicate step id "${step.id}"` });
    ids.add(step.id);
  }
  for (const step of steps) {
    for (const dep of step.dependsOn) {
      if (!ids.has(dep)) issues.push({ stepId: step.id, field: 'dependsOn', message: `unknown step "${dep}"` });
    }
    if (new Set(step.dependsOn).size !== step.dependsOn.length) issues.push({ stepId: step.id, field: 'dependsOn', message: 'lists a step twice' });
  }
  const byId = new Map(steps.map((step) => [step.id, step]));
  const cycle = findCycle([...byId.keys()], (id) => byId.get(id)?.dependsOn ?? []);
  if (cycle) issues.push({ stepId: cycle[0], field: 'dependsOn', message: `dependency cycle ${cycle.join(' -> ')}` });
  return issues;
}

/** The steps of a definition that failed the schema, as far as their ids and dependencies can be read. */
function rawSteps(input: unknown): StepLinks[] {
  const steps = (input as { steps?: unknown } | null)?.steps;
  if (!Array.isArray(steps)) return [];
  return steps.flatMap((raw: unknown) => {
    const { id, dependsOn = [] } = (typeof raw === 'object' && raw !== null ? raw : {}) as { id?: unknown; dependsOn?: unknown };
    if (typeof id !== 'string' || !Array.isArray(dependsOn)) return [];
    return [{ id, dependsOn: dependsOn.filter((dep): dep is string => typeof dep === 'string') }];
  });
}

function retryIssues(stepId: string, field: string, retry: RetryPolicy): DefinitionIssue[] {
  return retry.maxDelayMs < retry.initialDelayMs
    ? [{ stepId, field: `${field}.maxDelayMs`, message: `${retry.maxDelayMs} is below initialDelayMs ${retry.initialDelayMs}` }]
    : [];
}

/** Each data path a mapping reads must come from the initial data, the input, or a step it depends on. */
function mappingIssues(def: WorkflowDefinition): DefinitionIssue[] {
  const upstream = new UpstreamWriters(def);
  const issues: DefinitionIssue[] = [];
  def.steps.forEach((step, i) => {
    issues.push(...readIssues(def, step, 'input', step.input, (path) => upstream.writtenBefore(i, path), false));
    if (step.compensation) issues.push(...readIssues(def, step, 'compensation.input', step.compensation.input, (path) => writes(step, path) || upstream.writtenBefore(i, path), true));
  });
  return issues;
}

/**
 * Answers "does a step that step i depends on, directly or transitively, write this path?" by
 * walking the dependency edges, remembering per path which steps are known to have such a writer
 * among themselves and their ancestors (or not). A chain of 10,000 steps that all read what its
 * first step wrote is walked once, not once per step, and no step's ancestor set is ever built.
 */
class UpstreamWriters {
  readonly #steps: readonly StepDefinition[];
  readonly #dependencies: readonly (readonly number[])[];
  /** Per path: step index to whether it or one of its ancestors writes the path. */
  readonly #known = new Map<string, Map<number, boolean>>();

  constructor(def: WorkflowDefinition) {
    this.#steps = def.steps;
    this.#dependencies = graphOf(def).dependencies;
  }

  writtenBefore(index: number, path: string): boolean {
    return (this.#dependencies[index] ?? []).some((d) => this.#writtenBy(d, path));
  }

  /** Whether step `start` or one of its ancestors writes `path`: a depth-first walk with an explicit stack (chains are deep). */
  #writtenBy(start: number, path: string): boolean {
    let known = this.#known.get(path);
    if (!known) this.#known.set(path, (known = new Map()));
    const answer = (index: number): boolean | undefined => known.get(index) ?? (writes(this.#steps[index] as StepDefinition, path) ? (known.set(index, true), true) : undefined);
    const first = answer(start);
    if (first !== undefined) return first;
    const stack = [start];
    const next = [0];
    while (stack.length > 0) {
      const top = stack.length - 1;
      const index = stack[top] as number;
      const deps = this.#dependencies[index] ?? [];
      const k = next[top] as number;
      if (k === deps.length) {
        known.set(index, false);
        stack.pop();
        next.pop();
        continue;
      }
      next[top] = k + 1;
      const dep = deps[k] as number;
      const found = answer(dep);
      if (found === true) {
        for (const onPath of stack) known.set(onPath, true);
        return true;
      }
      if (found === undefined) {
        stack.push(dep);
        next.push(0);
      }
    }
    return false;
  }
}

function readIssues(def: WorkflowDefinition, step: StepDefinition, field: string, mapping: InputMapping, produced: (path: string) => boolean, scoped: boolean): DefinitionIssue[] {
  const issues: DefinitionIssue[] = [];
  for (const [target, source] of Object.entries(mapping)) {
    if (typeof source !== 'string') continue;
    const { scope, path } = parseSourcePath(source);
    if (scope !== 'data') {
      if (!scoped) issues.push({ stepId: step.id, field: `${field}.${target}`, message: `"${source}": only a compensation can read its step's $output or $input` });
      continue;
    }
    if (path === 'input' || path.startsWith('input.') || hasPath(def.initialData, path)) continue;
    if (produced(path)) continue;
    const elsewhere = def.steps.filter((s) => s.id !== step.id && writes(s, path)).map((s) => `"${s.id}"`);
    issues.push({
      stepId: step.id,
      field: `${field}.${target}`,
      message: elsewhere.length > 0
        ? `reads "${source}", which only step ${elsewhere.join(', ')} writes, and "${step.id}" does not depend on it`
        : `reads "${source}", which neither the initial data, the input nor any step's output mapping provides`,
    });
  }
  return issues;
}

/** True when one of the step's output mappings writes `path`, a parent of it, or a child of it. */
function writes(step: StepDefinition, path: string): boolean {
  return Object.keys(step.output).some((target) => target === path || path.startsWith(`${target}.`) || target.startsWith(`${path}.`));
}
