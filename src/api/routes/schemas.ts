/** Query-string pieces more than one route uses; each names what it expects, for the problem details and the OpenAPI document. */
import { z } from 'zod';
import { assertWorkflowId, InvalidWorkflowIdError } from '../../saga/stream/index.js';

/** A workflow id by the stream module's rule, so a bad one is a 400 naming its field, in that rule's words. */
export const workflowId = z
  .string()
  .superRefine((value, context) => {
    try {
      assertWorkflowId(value);
    } catch (error) {
      if (!(error instanceof InvalidWorkflowIdError)) throw error;
      context.addIssue({ code: 'custom', message: error.message });
    }
  })
  .describe('a workflow id: 1-200 letters, digits, ".", "_", ":" or "-", starting with a letter or digit');

export const workflowIdParams = z.strictObject({ workflowId });

export const isoTime = z.iso.datetime({ offset: true }).describe('ISO 8601 time, e.g. 2026-01-31T12:00:00Z');

export const positionText = z
  .string()
  .regex(/^\d{1,20}(\/\d{1,20})?$/, 'expected a store position "<commit>/<prepare>"')
  .describe('a store position "<commit>/<prepare>", as the API prints it');

/** `a,b,c` of a known set. */
export function commaList<const T extends readonly [string, ...string[]]>(values: T) {
  const one = values.join('|');
  return z.string().regex(new RegExp(`^(${one})(,(${one}))*$`), `expected a comma-separated list of ${values.join(', ')}`);
}

export const splitList = (text: string | undefined): string[] | undefined => text?.split(',').filter((v) => v !== '');
