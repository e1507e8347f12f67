/**
 * Graph facts about a definition's steps, computed once per definition and shared by every state
 * that uses it (validation, evolve and decide all read them).
 */
import type { StepDefinition, WorkflowDefinition } from './definition.js';

export interface DefinitionGraph {
  readonly steps: readonly StepDefinition[];
  /** Step id to its position in `steps` (definition order). */
  readonly indexOf: ReadonlyMap<string, number>;
  /** For each step, the indexes of the steps that depend on it directly. */
  readonly dependents: readonly (readonly number[])[];
  /** For each step, the indexes of its dependencies. */
  readonly dependencies: readonly (readonly number[])[];
  // No transitive closures (every step's ancestors or descendants): they hold on the order of n^2
  // indexes for a chain of n steps (50 million at 10,000). Walk the edges instead.
}

const cache = new WeakMap<WorkflowDefinition, DefinitionGraph>();

/** The graph of an acyclic definition with known dependencies (as `validateDefinition` ensures). */
export function graphOf(definition: WorkflowDefinition): DefinitionGraph {
  const cached = cache.get(definition);
  if (cached) return cached;
  const graph = buildGraph(definition.steps);
  cache.set(definition, graph);
  return graph;
}

function buildGraph(steps: readonly StepDefinition[]): DefinitionGraph {
  const indexOf = new Map(steps.map((step, i) => [step.id, i]));
  const dependencies = steps.map((step) => step.dependsOn.map((id) => indexOf.get(id)).filter((i): i is number => i !== undefined));
  const dependents: number[][] = steps.map(() => []);
  dependencies.forEach((deps, i) => deps.forEach((d) => dependents[d]?.push(i)));
  return { steps, indexOf, dependents, dependencies };
}

/** Kahn's algorithm over dependency lists; steps on a cycle are left out. */
export function topologicalOrder(dependencies: readonly (readonly number[])[]): number[] {
  const remaining = dependencies.map((deps) => deps.length);
  const dependents: number[][] = dependencies.map(() => []);
  dependencies.forEach((deps, i) => deps.forEach((d) => dependents[d]?.push(i)));
  const order: number[] = [];
  const queue = remaining.flatMap((n, i) => (n === 0 ? [i] : []));
  for (let head = 0; head < queue.length; head++) {
    const i = queue[head] as number;
    order.push(i);
    for (const j of dependents[i] ?? []) {
      remaining[j] = (remaining[j] ?? 0) - 1;
      if (remaining[j] === 0) queue.push(j);
    }
  }
  return order;
}

/**
 * One cycle among `ids` as `a -> b -> c -> a` (following dependsOn edges), or undefined. Depth
 * first with an explicit stack: a chain of thousands of steps listed last-first is that deep.
 */
export function findCycle(ids: readonly string[], dependsOn: (id: string) => readonly string[]): string[] | undefined {
  const known = new Set(ids);
  const state = new Map<string, 'visiting' | 'done'>();
  for (const root of ids) {
    if (state.has(root)) continue;
    state.set(root, 'visiting');
    const path = [root];
    const next = [0];
    while (path.length > 0) {
      const top = path.length - 1;
      const id = path[top] as string;
      const deps = dependsOn(id);
      const k = next[top] as number;
      if (k === deps.length) {
        state.set(id, 'done');
        path.pop();
        next.pop();
        continue;
      }
      next[top] = k + 1;
      const dep = deps[k] as string;
      if (!known.has(dep) || state.get(dep) === 'done') continue;
      if (state.get(dep) === 'visiting') return [...path.slice(path.indexOf(dep)), dep];
      state.set(dep, 'visiting');
      path.push(dep);
      next.push(0);
    }
  }
  return undefined;
}
