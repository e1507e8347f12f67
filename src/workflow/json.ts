/** JSON values: what definitions, step inputs and outputs, and event data may hold. */
import { z } from 'zod';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

/**
 * How many arrays and objects JSON in a workflow may nest inside each other: a definition's
 * `initialData` and mapping values, and a workflow's input. The same number bounds agent outputs
 * (`isJson` in src/store/validation.ts), so any value a workflow accepts can be stored and read back.
 */
export const MAX_JSON_DEPTH = 512;

/**
 * Why `value` nests too deeply, or undefined. A loop, not recursion: a value nested 100,000 levels
 * must get this answer, not overflow the stack of whatever checks it (zod's parser, hashing).
 */
export function jsonDepthProblem(value: unknown): string | undefined {
  const pending: { value: unknown; depth: number }[] = [{ value, depth: 0 }];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    if (typeof next.value !== 'object' || next.value === null) continue;
    if (next.depth >= MAX_JSON_DEPTH) return `nested more than ${MAX_JSON_DEPTH} levels deep (the limit for JSON in a workflow)`;
    for (const child of Object.values(next.value)) pending.push({ value: child, depth: next.depth + 1 });
  }
  return undefined;
}

/**
 * Validates any JSON value (zod's own recursive JSON schema, typed as our `Json`), after a depth
 * check that keeps zod's recursion from overflowing the stack.
 */
export const jsonSchema = z
  .unknown()
  .superRefine((value, context) => {
    const problem = jsonDepthProblem(value);
    if (problem !== undefined) context.addIssue({ code: 'custom', message: problem });
  })
  .pipe(z.json()) as unknown as z.ZodType<Json>;

export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
