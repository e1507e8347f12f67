/**
 * A small persistent vector: two levels of fixed-size chunks. `set` copies the chunk directory
 * and one chunk, never the whole vector, so folding long histories of wide workflows stays cheap
 * and earlier states are never touched.
 */
const CHUNK = 32;

export interface Vector<T> {
  readonly length: number;
  readonly chunks: readonly (readonly T[])[];
}

export function vectorOf<T>(items: readonly T[]): Vector<T> {
  const chunks: T[][] = [];
  for (let i = 0; i < items.length; i += CHUNK) chunks.push(items.slice(i, i + CHUNK));
  return { length: items.length, chunks };
}

export function vget<T>(vector: Vector<T>, index: number): T {
  const chunk = vector.chunks[Math.floor(index / CHUNK)];
  if (chunk === undefined || index < 0 || index >= vector.length) throw new RangeError(`Index ${index} out of range`);
  return chunk[index % CHUNK] as T;
}

export function vset<T>(vector: Vector<T>, index: number, value: T): Vector<T> {
  const c = Math.floor(index / CHUNK);
  const chunk = vector.chunks[c];
  if (chunk === undefined || index < 0 || index >= vector.length) throw new RangeError(`Index ${index} out of range`);
  const nextChunk = chunk.slice();
  nextChunk[index % CHUNK] = value;
  const chunks = vector.chunks.slice();
  chunks[c] = nextChunk;
  return { length: vector.length, chunks };
}

export function vtoArray<T>(vector: Vector<T>): T[] {
  return vector.chunks.flat() as T[];
}
