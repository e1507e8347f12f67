/**
 * startWorkflow with JSON nested past the documented limit (MAX_JSON_DEPTH): a definition's
 * initialData is a DefinitionError and the input a rejected start, both naming the field and the
 * limit, and nothing is written. (100,000 levels once overflowed the stack inside zod.)
 */
import { describe, expect, it } from 'vitest';
import { DefinitionError } from '../../src/workflow/validate.js';
import { MAX_JSON_DEPTH, type JsonObject } from '../../src/workflow/json.js';
import { CommandRejectedError } from '../../src/saga/index.js';
import { tradingPipeline } from '../../sagas/trading/definition.js';
import { startTestEngine } from './support.js';

const nested = (levels: number): JsonObject => {
  let value: JsonObject = { leaf: true };
  for (let i = 1; i < levels; i++) value = { a: value };
  return value;
};
const input = { symbol: 'ACME', side: 'buy', quantity: 5, account: 'a-1' };
const limit = `nested more than ${MAX_JSON_DEPTH} levels deep (the limit for JSON in a workflow)`;

describe('startWorkflow with deeply nested JSON', () => {
  it('refuses initialData and input past the limit with errors naming the field and the limit, writing nothing', async () => {
    const engine = await startTestEngine({ agents: [] });
    try {
      for (const levels of [MAX_JSON_DEPTH + 1, 100_000]) {
        const deepDefinition = { ...tradingPipeline, initialData: { nest: nested(levels) } };
        const definitionError = await engine.runtime.startWorkflow(deepDefinition, input, { workflowId: `deep-data-${levels}` }).catch((error: unknown) => error);
        expect(definitionError).toBeInstanceOf(DefinitionError);
        expect((definitionError as DefinitionError).issues).toEqual([{ field: 'initialData.nest', message: limit }]);

        const inputError = await engine.runtime.startWorkflow(tradingPipeline, { ...input, extra: nested(levels) }, { workflowId: `deep-input-${levels}` }).catch((error: unknown) => error);
        expect(inputError).toBeInstanceOf(CommandRejectedError);
        expect((inputError as Error).message).toBe(`Cannot start: input is ${limit}`);
      }
      const written = [];
      for await (const event of engine.store.readAll()) if (event.stream.startsWith('workflow-')) written.push(event.stream);
      expect(written).toEqual([]);
      // Just inside the limit, the same shapes start.
      await engine.runtime.startWorkflow({ ...tradingPipeline, initialData: { nest: nested(MAX_JSON_DEPTH - 1) } }, { ...input, extra: nested(MAX_JSON_DEPTH - 1) }, { workflowId: 'deep-ok' });
      expect((await engine.runtime.getState('deep-ok')).status).not.toBe('idle');
    } finally {
      await engine.stop();
    }
  });
});
