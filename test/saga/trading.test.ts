import { describe, expect, it } from 'vitest';
import { stepState } from '../../src/saga/index.js';
import { tradingInputSchema, tradingPipeline } from '../../sagas/index.js';
import { Scenario } from './spec.js';

const input = tradingInputSchema.parse({ symbol: 'ACME', quantity: 10, account: 'acc-1' });
const scheduled = (s: Scenario) => s.events.filter((e) => e.type === 'StepScheduled').map((e) => e.data.stepId);

function throughExecution(): Scenario {
  const s = new Scenario(tradingPipeline, 'trade-1').start(input);
  s.succeed('market-data', { price: 101.5, volume: 1e6 });
  s.succeed('technical-analysis', { signal: 'bullish' }).succeed('sentiment-analysis', { score: 0.7 });
  s.succeed('risk-assessment', { reservationId: 'res-9', approvedNotional: 1015 });
  s.succeed('trading-decision', { side: 'buy', quantity: 10, limitPrice: 102 });
  s.succeed('compliance', { approvalId: 'ap-3' });
  return s;
}

describe('the trading pipeline', () => {
  it('validates its input', () => {
    expect(input.side).toBe('buy');
    expect(tradingInputSchema.safeParse({ symbol: 'acme', quantity: 0, account: '' }).success).toBe(false);
  });

  it('runs market data, then both analyses together, then the rest in order', () => {
    const s = new Scenario(tradingPipeline, 'trade-1').start(input);
    expect(scheduled(s)).toEqual(['market-data']);
    s.succeed('market-data', { price: 101.5 });
    expect(scheduled(s)).toEqual(['market-data', 'technical-analysis', 'sentiment-analysis']);
    const full = throughExecution().succeed('trade-execution', { orderId: 'o-77', filledQuantity: 10 }).succeed('post-trade-check', { ok: true });
    expect(full.state.status).toBe('completed');
    const risk = full.events.find((e) => e.type === 'StepScheduled' && e.data.stepId === 'risk-assessment');
    expect(risk?.data).toMatchObject({ capability: 'risk-assessment', input: { account: 'acc-1', price: 101.5, analysis: { technical: { signal: 'bullish' }, sentiment: { score: 0.7 } } } });
    const execution = full.events.find((e) => e.type === 'StepScheduled' && e.data.stepId === 'trade-execution');
    expect(execution?.data).toMatchObject({ capability: 'trade-execution', idempotencyKey: 'trade-1:trade-execution', input: { approval: 'ap-3', decision: { side: 'buy' } } });
  });

  it('reverses the executed order, then releases the risk limit, when the post-trade check fails', () => {
    const s = throughExecution().succeed('trade-execution', { orderId: 'o-77', filledQuantity: 10 });
    s.fail('post-trade-check', false, 'fill outside approved limits');
    const reverse = s.events.at(-1);
    expect(reverse).toMatchObject({ type: 'CompensationScheduled', data: { stepId: 'trade-execution', action: 'cancel-or-reverse-order', input: { orderId: 'o-77', executedQuantity: 10, side: 'buy', account: 'acc-1' } } });
    s.compensated('trade-execution', { reversed: true });
    expect(s.events.at(-1)).toMatchObject({ type: 'CompensationScheduled', data: { stepId: 'risk-assessment', action: 'release-risk-limit', capability: 'risk-assessment', input: { reservationId: 'res-9' } } });
    s.compensated('risk-assessment');
    expect(s.events.at(-1)).toMatchObject({ type: 'WorkflowCompensated', data: { compensatedSteps: ['risk-assessment', 'trade-execution'], reason: expect.stringContaining('fill outside approved limits') } });
  });

  it('cancels whatever an execution that failed for good may have placed, under its key, then releases the risk limit', () => {
    const s = throughExecution().fail('trade-execution', true).retryDue('trade-execution').timeOut('trade-execution');
    expect(stepState(s.state, 'trade-execution')?.attempt).toBe(2);
    // The second attempt timed out: the broker may have placed the order. Its compensation runs for
    // the execution's key; there is no fill to read, so the fill's fields are null.
    expect(s.events.slice(-2)).toMatchObject([
      { type: 'CompensationStarted', data: { toCompensate: ['risk-assessment', 'trade-execution'] } },
      { type: 'CompensationScheduled', data: { stepId: 'trade-execution', idempotencyKey: 'trade-1:trade-execution:compensate', compensates: ['trade-1:trade-execution'], input: { orderId: null, executedQuantity: null, account: 'acc-1' } } },
    ]);
    s.compensated('trade-execution', { reversed: false });
    expect(s.events.at(-1)).toMatchObject({ type: 'CompensationScheduled', data: { stepId: 'risk-assessment' } });
  });
});
