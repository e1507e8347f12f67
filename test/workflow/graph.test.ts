/**
 * src/workflow/graph.ts: the graph facts validation, evolve and decide share (docs/workflows.md: steps
 * form a DAG through `dependsOn`), the order a DAG can run in, and cycles found as a path.
 */
import { describe, expect, it } from 'vitest';
import { findCycle, graphOf, topologicalOrder, validateDefinition } from '../../src/workflow/index.js';

const step = (id: string, dependsOn: string[] = []) => ({ id, action: id, capability: 'x', dependsOn });

describe('graphOf', () => {
  it('indexes the steps in definition order, with each step\'s dependencies and dependents', () => {
    // d depends on b and a; b and c on a.
    const definition = validateDefinition({ name: 'g', steps: [step('a'), step('b', ['a']), step('c', ['a']), step('d', ['b', 'a'])] });
    const graph = graphOf(definition);
    expect(graph.steps).toBe(definition.steps);
    expect([...graph.indexOf]).toEqual([['a', 0], ['b', 1], ['c', 2], ['d', 3]]);
    expect(graph.dependencies).toEqual([[], [0], [0], [1, 0]]);
    expect(graph.dependents).toEqual([[1, 2, 3], [3], [], []]);
  });

  it('is computed once per definition', () => {
    const definition = validateDefinition({ name: 'g', steps: [step('a')] });
    expect(graphOf(definition)).toBe(graphOf(definition));
    expect(graphOf(validateDefinition({ name: 'g', steps: [step('a')] }))).not.toBe(graphOf(definition));
  });
});

describe('topologicalOrder', () => {
  it('puts every step after its dependencies, roots first in definition order', () => {
    expect(topologicalOrder([[], [0], [0], [1, 2]])).toEqual([0, 1, 2, 3]);
    // Listed last step first: 2 <- 1 <- 0.
    expect(topologicalOrder([[1], [2], []])).toEqual([2, 1, 0]);
    expect(topologicalOrder([[], []])).toEqual([0, 1]);
    expect(topologicalOrder([])).toEqual([]);
  });

  it('leaves out the steps on a cycle and every step after one', () => {
    // 1 and 2 depend on each other; 3 depends on 2; 0 is free.
    expect(topologicalOrder([[], [2], [1], [2]])).toEqual([0]);
  });
});

describe('findCycle', () => {
  const edges = (graph: Record<string, string[]>) => (id: string) => graph[id] ?? [];

  it('finds none in a DAG, whatever the order the steps are listed in', () => {
    const dag = { a: [], b: ['a'], c: ['a', 'b'], d: ['c', 'b'] };
    expect(findCycle(['a', 'b', 'c', 'd'], edges(dag))).toBeUndefined();
    expect(findCycle(['d', 'c', 'b', 'a'], edges(dag))).toBeUndefined();
  });

  it('reports a cycle as the path that closes it, from the step it returns to', () => {
    expect(findCycle(['a', 'b', 'c'], edges({ a: ['b'], b: ['c'], c: ['b'] }))).toEqual(['b', 'c', 'b']);
    expect(findCycle(['x'], edges({ x: ['x'] }))).toEqual(['x', 'x']);
    // A cycle reached only after a finished branch.
    expect(findCycle(['r', 'p', 'q'], edges({ r: ['p', 'q'], p: [], q: ['q2'], q2: ['q'] }))).toBeUndefined();
    expect(findCycle(['r', 'p', 'q', 'q2'], edges({ r: ['p', 'q'], p: [], q: ['q2'], q2: ['q'] }))).toEqual(['q', 'q2', 'q']);
  });

  it('ignores dependencies on ids it was not given', () => {
    expect(findCycle(['a', 'b'], edges({ a: ['ghost', 'b'], b: ['ghost'] }))).toBeUndefined();
  });
});
