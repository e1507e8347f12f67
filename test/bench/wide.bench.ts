/**
 * Wide and long workflows (`npm run bench:wide`): steps per second of one workflow of 100 steps
 * against one of 10,000, for two shapes, end to end through the runtime with a no-op in-process
 * agent: `parallel` (no dependencies: every step is scheduled at the start) and `chain` (each step
 * depends on the one before). The cost per step should not depend on the workflow's size: the
 * `ratio.*` figures (100-step rate over 10,000-step rate) should stay below 2.
 *
 * The 100-step workflow runs 100 times one after the other (10,000 steps, one workflow in flight,
 * like the big one), with one definition object, as an application starts it; the 10,000-step
 * definition is a new object each round, so its validation and hashing are paid and measured
 * (`prepare.10000.ms`). Rounds interleave the sizes (the machine is shared, and its speed drifts);
 * each figure is the median over the rounds. Prints figures, then one JSON line.
 *
 *   npm run bench:wide     (BENCH_ROUNDS=3 by default; BENCH_STORE=sqlite for a temp file at
 *                           durability=normal instead of memory:; BENCH_SIZE to change 10,000)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AgentRegistry, inProcessTransport } from '../../src/agents/index.js';
import { SagaRuntime } from '../../src/saga/runtime/index.js';
import { openStore } from '../../src/store/open.js';
import { definitionHash, validateDefinition, type WorkflowDefinitionInput } from '../../src/workflow/index.js';

type Shape = 'parallel' | 'chain';
const shapes: readonly Shape[] = ['parallel', 'chain'];
const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
const big = Number(process.env.BENCH_SIZE ?? 10_000);
const small = 100;
const storeKind = process.env.BENCH_STORE ?? 'memory';

function definition(shape: Shape, size: number): WorkflowDefinitionInput {
  return {
    name: `${shape}-${size}`,
    steps: Array.from({ length: size }, (_, i) => ({
      id: `s${i}`, action: 'work', capability: 'worker', dependsOn: shape === 'chain' && i > 0 ? [`s${i - 1}`] : [],
    })),
  };
}

const dir = mkdtempSync(join(tmpdir(), 'cadenza-bench-wide-'));
const store = await openStore(storeKind === 'sqlite' ? `sqlite:${join(dir, 'store.db')}?durability=normal` : 'memory:');
const registry = await AgentRegistry.open({ store });
await registry.register({ id: 'no-op', capabilities: ['worker'], transport: inProcessTransport({ work: async () => null }) });
const runtime = await SagaRuntime.start({ store, registry });

/** Runs `times` workflows of `def` one after the other; returns the elapsed ms. */
async function run(def: WorkflowDefinitionInput, times: number): Promise<number> {
  const started = performance.now();
  for (let k = 0; k < times; k++) {
    const { workflowId } = await runtime.startWorkflow(def, {});
    const state = await runtime.waitForEnd(workflowId);
    if (state.status !== 'completed') throw new Error(`${def.name} workflow ${workflowId} ended ${state.status}`);
  }
  return performance.now() - started;
}

const median = (values: readonly number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;
const round = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;

// Warm up the JIT on both shapes, unmeasured.
for (const shape of shapes) await run(definition(shape, small), 20);

const rates: Record<string, number[]> = {};
const prepareMs: number[] = [];
for (let r = 0; r < rounds; r++) {
  for (const shape of shapes) {
    const smallDef = definition(shape, small);
    (rates[`${shape}.${small}`] ??= []).push((small * (big / small)) / ((await run(smallDef, big / small)) / 1000));
    const bigDef = definition(shape, big);
    (rates[`${shape}.${big}`] ??= []).push(big / ((await run(bigDef, 1)) / 1000));
  }
  // Validation and hashing of a fresh definition of `big` steps, alone.
  const fresh = definition('chain', big);
  const started = performance.now();
  definitionHash(validateDefinition(fresh));
  prepareMs.push(performance.now() - started);
}

await runtime.stop();
await registry.close();
await store.close();
rmSync(dir, { recursive: true, force: true });

const results: Record<string, { value: number; unit: string }> = {};
for (const shape of shapes) {
  const smallRate = median(rates[`${shape}.${small}`] ?? []);
  const bigRate = median(rates[`${shape}.${big}`] ?? []);
  results[`steps_per_s.${shape}.${small}`] = { value: round(smallRate), unit: 'steps/s' };
  results[`steps_per_s.${shape}.${big}`] = { value: round(bigRate), unit: 'steps/s' };
  results[`ratio.${shape}`] = { value: round(smallRate / bigRate, 2), unit: `${small}-step rate / ${big}-step rate` };
  console.log(`${shape.padEnd(9)} ${small} steps: ${round(smallRate)} steps/s   ${big} steps: ${round(bigRate)} steps/s   ratio ${round(smallRate / bigRate, 2)}`);
  console.log(`          rounds: ${(rates[`${shape}.${small}`] ?? []).map((v) => round(v, 0)).join(', ')}  |  ${(rates[`${shape}.${big}`] ?? []).map((v) => round(v, 0)).join(', ')}`);
}
results[`prepare.${big}.ms`] = { value: round(median(prepareMs)), unit: 'ms' };
console.log(`validating and hashing a ${big}-step definition: ${round(median(prepareMs))} ms (median of ${rounds}; store ${storeKind}, one workflow in flight)`);
console.log(JSON.stringify({ bench: 'wide', results }));
