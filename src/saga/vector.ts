/**
 * A small persistent vector (a 32-way trie, as in Clojure's and Immutable.js's vectors): `vset`
 * copies one node per level (log32 n of them), never the whole vector, so folding long
 * histories of wide workflows stays cheap and earlier states are never touched.
 */
const BITS = 5;
const WIDTH = 1 << BITS;
const MASK = WIDTH - 1;

type Node = readonly unknown[];

export interface Vector<T> {
  readonly length: number;
  /** Bits to shift an index by at the root: 0 when the root is a leaf. */
  readonly shift: number;
  readonly root: Node;
  /** Phantom field tying the element type to the vector. */
  readonly _element?: T;
}

export function vectorOf<T>(items: readonly T[]): Vector<T> {
  let level: Node[] = chunk(items);
  let shift = 0;
  while (level.length > 1) {
    level = chunk(level);
    shift += BITS;
  }
  return { length: items.length, shift, root: level[0] ?? [] };
}

function chunk(items: readonly unknown[]): Node[] {
  const nodes: Node[] = [];
  for (let i = 0; i < items.length; i += WIDTH) nodes.push(items.slice(i, i + WIDTH));
  return nodes;
}

export function vget<T>(vector: Vector<T>, index: number): T {
  if (index < 0 || index >= vector.length) throw new RangeError(`Index ${index} out of range 0..${vector.length - 1}`);
  let node = vector.root;
  for (let shift = vector.shift; shift > 0; shift -= BITS) node = node[(index >>> shift) & MASK] as Node;
  return node[index & MASK] as T;
}

export function vset<T>(vector: Vector<T>, index: number, value: T): Vector<T> {
  if (index < 0 || index >= vector.length) throw new RangeError(`Index ${index} out of range 0..${vector.length - 1}`);
  return { length: vector.length, shift: vector.shift, root: setIn(vector.root, vector.shift, index, value) };
}

function setIn(node: Node, shift: number, index: number, value: unknown): Node {
  const copy = node.slice();
  const slot = (index >>> shift) & MASK;
  copy[slot] = shift === 0 ? value : setIn(node[slot] as Node, shift - BITS, index, value);
  return copy;
}

export function vtoArray<T>(vector: Vector<T>): T[] {
  // Up to 32 items the root is the only node: one copy, no walk (pendingTimers, completeIfSettled
  // and others call this on every decision).
  if (vector.shift === 0) return vector.root.slice() as T[];
  const out: T[] = [];
  collect(vector.root, vector.shift, out);
  return out;
}

/** Appends the items under `node` in order (a plain function, not a closure made per call). */
function collect(node: Node, shift: number, out: unknown[]): void {
  if (shift === 0) {
    for (let i = 0; i < node.length; i++) out.push(node[i]);
  } else {
    for (let i = 0; i < node.length; i++) collect(node[i] as Node, shift - BITS, out);
  }
}
