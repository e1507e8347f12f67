/**
 * The trading pipeline: market data, then technical and sentiment analysis in parallel, then risk
 * assessment (reserves a risk limit), the trading decision, compliance, trade execution and a
 * post-trade check of the fill. On failure the saga compensates: an executed order is cancelled or
 * reversed, the reserved risk limit released.
 */
import { z } from 'zod';
import { workflow } from '../../src/workflow/index.js';

export const tradingInputSchema = z.strictObject({
  symbol: z.string().regex(/^[A-Z][A-Z0-9.]{0,9}$/, 'an upper-case ticker such as "ACME"'),
  side: z.enum(['buy', 'sell']).default('buy'),
  quantity: z.number().int().positive(),
  account: z.string().min(1),
});
export type TradingInput = z.output<typeof tradingInputSchema>;

const quick = { maxAttempts: 3, initialDelayMs: 200, multiplier: 2, maxDelayMs: 5_000, jitter: 0.2 };

export const tradingPipeline = workflow('trading-pipeline')
  .version(1)
  .description('Market data, parallel technical and sentiment analysis, risk, decision, compliance, execution, post-trade check; compensates executed orders and reserved risk.')
  .requireInput('symbol', 'side', 'quantity', 'account')
  .onFailure('compensate')
  .step({
    id: 'market-data', action: 'collect-market-data', capability: 'market-data',
    input: { symbol: 'input.symbol' },
    output: { market: '$' },
    timeoutMs: 5_000, retry: quick,
  })
  .step({
    id: 'technical-analysis', action: 'analyse-technicals', capability: 'technical-analysis', dependsOn: ['market-data'],
    input: { symbol: 'input.symbol', market: 'market' },
    output: { 'analysis.technical': '$' },
    timeoutMs: 10_000, retry: quick,
  })
  .step({
    id: 'sentiment-analysis', action: 'analyse-sentiment', capability: 'sentiment-analysis', dependsOn: ['market-data'],
    input: { symbol: 'input.symbol' },
    output: { 'analysis.sentiment': '$' },
    timeoutMs: 10_000, retry: quick,
  })
  .step({
    id: 'risk-assessment', action: 'reserve-risk-limit', capability: 'risk-assessment', dependsOn: ['technical-analysis', 'sentiment-analysis'],
    input: { account: 'input.account', symbol: 'input.symbol', side: 'input.side', quantity: 'input.quantity', price: 'market.price', analysis: 'analysis' },
    output: { risk: '$' },
    timeoutMs: 5_000, retry: quick,
    compensation: {
      action: 'release-risk-limit',
      input: { account: 'input.account', reservationId: '$output.reservationId' },
    },
  })
  .step({
    id: 'trading-decision', action: 'decide-trade', capability: 'trading-strategy', dependsOn: ['risk-assessment'],
    input: { symbol: 'input.symbol', side: 'input.side', quantity: 'input.quantity', analysis: 'analysis', risk: 'risk' },
    output: { decision: '$' },
    timeoutMs: 5_000, retry: quick,
  })
  .step({
    id: 'compliance', action: 'verify-compliance', capability: 'compliance', dependsOn: ['trading-decision'],
    input: { account: 'input.account', symbol: 'input.symbol', decision: 'decision' },
    output: { compliance: '$' },
    timeoutMs: 5_000, retry: { ...quick, maxAttempts: 2 },
  })
  .step({
    id: 'trade-execution', action: 'execute-order', capability: 'trade-execution', dependsOn: ['compliance'],
    input: { account: 'input.account', symbol: 'input.symbol', decision: 'decision', approval: 'compliance.approvalId' },
    output: { execution: '$' },
    // An order placed twice is worse than one placed late: few attempts, and every attempt (and every
    // re-send after a crash) carries the same key, workflowId:trade-execution, so the broker places it once.
    // Its compensation runs whenever an attempt was sent (compensation.when 'attempted', the default),
    // not only after success: an attempt that timed out may still have placed the order, and the
    // broker finds it by the key in `compensates`. The risk reservation is released the same way.
    timeoutMs: 15_000, retry: { ...quick, maxAttempts: 2 },
    compensation: {
      action: 'cancel-or-reverse-order',
      input: { account: 'input.account', symbol: 'input.symbol', orderId: '$output.orderId', executedQuantity: '$output.filledQuantity', side: '$input.decision.side' },
      retry: { maxAttempts: 10, initialDelayMs: 500, multiplier: 2, maxDelayMs: 60_000, jitter: 0.3 },
    },
  })
  .step({
    // Post-trade check of the fill against the approval: a failure here reverses the executed order.
    id: 'post-trade-check', action: 'verify-execution', capability: 'compliance', dependsOn: ['trade-execution'],
    input: { account: 'input.account', approval: 'compliance.approvalId', execution: 'execution' },
    output: { postTrade: '$' },
    timeoutMs: 5_000, retry: quick,
  })
  .build();
