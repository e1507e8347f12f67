/** JSON values: what definitions, step inputs and outputs, and event data may hold. */
import { z } from 'zod';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

/** Validates any JSON value (zod's own recursive JSON schema, typed as our `Json`). */
export const jsonSchema = z.json() as unknown as z.ZodType<Json>;

export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
