/**
 * Simulated agents for the trading pipeline: market data, technical and sentiment analysis, risk,
 * strategy, compliance, execution and the post-trade check, with the compensations (release the reserved risk
 * limit, cancel or reverse an executed order). Each capability has a primary and a backup agent, so
 * retries fail over.
 *
 * Reproducible: every random choice (latency, transient failure, business rejection) is a hash of
 * the seed, the agent and the call's idempotency key, not a draw from a shared generator, so the
 * same seed gives the same fates however the calls interleave.
 */
import type { AgentDefinition } from '../../src/agents/index.js';
import { AgentFailure, inProcessTransport, type ActionContext, type ActionHandler } from '../../src/agents/index.js';
import type { Json } from '../../src/store/port.js';

export interface TradingAgentOptions {
  /** Seed of every simulated choice. Default 1. */
  readonly seed?: number;
  /** Probability that one call fails with a transient (retryable) error. Default 0.05. */
  readonly failureRate?: number;
  /** Probability that compliance rejects a trade (a business failure: not retried, compensated). Default 0.1. */
  readonly rejectionRate?: number;
  /** Probability that the post-trade check fails for good after the order executed. Default 0.05. */
  readonly postTradeFailureRate?: number;
  /** Mean simulated latency per call in ms (uniform in [0, 2 x mean]). Default 20; 0 = no delay. */
  readonly latencyMs?: number;
  /** Agents per capability (primary, backup, ...). Default 2. */
  readonly replicas?: number;
  /** Called as each call arrives, before any work: tests count deliveries per idempotency key and attempt. */
  readonly onCall?: (agentId: string, idempotencyKey: string, attempt: number) => void;
}

/**
 * One effect of the simulated broker or risk desk, keyed by the idempotency key it was made under.
 * A journal of these is what a real broker keeps: replaying it rebuilds the ledger, so a process
 * that restarts still knows which keys took effect (see `TradingLedger.replay`).
 */
export type LedgerEffect =
  | { readonly kind: 'order'; readonly key: string; readonly orderId: string; readonly account: string; readonly symbol: string; readonly side: string; readonly quantity: number; readonly price: number }
  | { readonly kind: 'reversal'; readonly orderId: string }
  | { readonly kind: 'reservation'; readonly key: string; readonly reservationId: string; readonly account: string; readonly notional: number }
  | { readonly kind: 'release'; readonly reservationId: string };

/**
 * Where the simulated broker records its effects, each under a name (`order:<key>`, ...): `record`
 * stores the effect only if none is stored under the name, atomically, as a broker's unique
 * constraint on the client order id does, and says whether it did. In memory by default; the crash
 * tests keep it in files so that processes sharing one simulated broker agree
 * (test/runtime/fixtures/runtime-worker.ts).
 */
export interface EffectJournal {
  record(name: string, effect: LedgerEffect): boolean;
  has(name: string): boolean;
}

export function memoryJournal(): EffectJournal {
  const names = new Set<string>();
  return {
    record: (name) => (names.has(name) ? false : (names.add(name), true)),
    has: (name) => names.has(name),
  };
}

/**
 * What the simulated broker and risk desk did: lets tests and the demo check the rollback. Like a
 * real broker it honours the idempotency key: an order is placed once per key, and a redelivery
 * (a retry, a re-send after a crash, another replica) gets the same fill back.
 */
export class TradingLedger {
  /** Orders placed by this process, by id; `reversed` once compensated. */
  readonly orders = new Map<string, { key: string; account: string; symbol: string; side: string; quantity: number; price: number; reversed: boolean }>();
  /** Risk reservations made by this process, by id; `released` once compensated. */
  readonly reservations = new Map<string, { key: string; account: string; notional: number; released: boolean }>();
  /** Deliveries per idempotency key (every attempt and re-send counts). */
  readonly callsByKey = new Map<string, number>();

  constructor(readonly journal: EffectJournal = memoryJournal()) {}

  /** Takes effect once per name: false (and nothing done) when the journal already holds it. */
  record(name: string, effect: LedgerEffect): boolean {
    if (!this.journal.record(name, effect)) return false;
    switch (effect.kind) {
      case 'order': {
        const { key, orderId, account, symbol, side, quantity, price } = effect;
        this.orders.set(orderId, { key, account, symbol, side, quantity, price, reversed: false });
        break;
      }
      case 'reversal': {
        const order = this.orders.get(effect.orderId);
        if (order) order.reversed = true;
        break;
      }
      case 'reservation':
        this.reservations.set(effect.reservationId, { key: effect.key, account: effect.account, notional: effect.notional, released: false });
        break;
      case 'release': {
        const reservation = this.reservations.get(effect.reservationId);
        if (reservation) reservation.released = true;
        break;
      }
    }
    return true;
  }
}

const capabilities = [
  'market-data',
  'technical-analysis',
  'sentiment-analysis',
  'risk-assessment',
  'trading-strategy',
  'compliance',
  'trade-execution',
] as const;

export function createTradingAgents(options: TradingAgentOptions = {}, ledger = new TradingLedger()): { agents: AgentDefinition[]; ledger: TradingLedger } {
  const agents = tradingAgentHandlers(options, ledger).map(({ id, capability, weight, handlers }): AgentDefinition => ({ id, capabilities: [capability], transport: inProcessTransport(handlers), weight }));
  return { agents, ledger };
}

/** One trading agent as plain functions: what `createTradingAgents` puts on the in-process transport and `cadenza demo --remote` serves over A2A. */
export interface TradingAgentHandlers {
  readonly id: string;
  readonly capability: string;
  readonly weight: number;
  readonly handlers: Record<string, ActionHandler>;
}

export function tradingAgentHandlers(options: TradingAgentOptions = {}, ledger = new TradingLedger()): TradingAgentHandlers[] {
  const seed = options.seed ?? 1;
  const failureRate = options.failureRate ?? 0.05;
  const rejectionRate = options.rejectionRate ?? 0.1;
  const postTradeFailureRate = options.postTradeFailureRate ?? 0.05;
  const latencyMs = options.latencyMs ?? 20;
  const replicas = options.replicas ?? 2;

  const agents: TradingAgentHandlers[] = [];
  for (const capability of capabilities) {
    for (let replica = 0; replica < replicas; replica++) {
      const agentId = `${capability}-${replica === 0 ? 'primary' : `backup${replica > 1 ? replica : ''}`}`;
      const chance = (key: string, salt: string) => uniform(`${seed}|${agentId}|${key}|${salt}`);
      const handlers = tradingHandlers(ledger, (key, salt) => uniform(`${seed}|${key}|${salt}`), { rejectionRate, postTradeFailureRate });
      const guarded: Record<string, ActionHandler> = {};
      for (const [action, handler] of Object.entries(handlers)) {
        guarded[action] = async (input, ctx) => {
          ledger.callsByKey.set(ctx.idempotencyKey, (ledger.callsByKey.get(ctx.idempotencyKey) ?? 0) + 1);
          options.onCall?.(agentId, ctx.idempotencyKey, ctx.attempt);
          // Fates are per delivery (key and attempt): a retry of a transient failure may succeed.
          const delivery = `${ctx.idempotencyKey}#${ctx.attempt}`;
          if (latencyMs > 0) await sleep(chance(delivery, 'latency') * 2 * latencyMs, ctx.signal);
          if (chance(delivery, 'transient') < failureRate) {
            throw new AgentFailure(`${agentId}: transient failure (simulated)`, 'unavailable', true);
          }
          return handler(input, ctx);
        };
      }
      agents.push({ id: agentId, capability, weight: replicas - replica, handlers: guarded });
    }
  }
  return agents;
}

interface Rates {
  readonly rejectionRate: number;
  readonly postTradeFailureRate: number;
}

/** The business logic of each action: deterministic given the input and the workflow's dice. */
function tradingHandlers(ledger: TradingLedger, dice: (key: string, salt: string) => number, rates: Rates): Record<string, ActionHandler> {
  // Business outcomes depend on the workflow, not the attempt or the agent: a retry gets the same answer.
  const workflowOf = (key: string) => key.split(':')[0] ?? key;
  return {
    'collect-market-data': (input) => {
      const { symbol } = asObject(input);
      const base = 50 + Math.floor(dice(String(symbol), 'price') * 450);
      return { symbol: symbol ?? null, price: base, bid: base - 0.05, ask: base + 0.05, volume: 1_000_000 + Math.floor(dice(String(symbol), 'volume') * 9_000_000) };
    },
    'analyse-technicals': (input, ctx) => {
      const rsi = Math.round(dice(workflowOf(ctx.idempotencyKey), 'rsi') * 100);
      return { signal: rsi < 30 ? 'buy' : rsi > 70 ? 'sell' : 'hold', rsi, movingAverage50: Number(asObject(asObject(input).market).price ?? 0) * 0.98 };
    },
    'analyse-sentiment': (_input, ctx) => {
      const score = Math.round((dice(workflowOf(ctx.idempotencyKey), 'sentiment') * 2 - 1) * 100) / 100;
      return { score, sources: 12, label: score > 0.2 ? 'positive' : score < -0.2 ? 'negative' : 'neutral' };
    },
    'reserve-risk-limit': (input, ctx) => {
      // Reserved once per key; a redelivery gets the same reservation back.
      const { account, quantity, price } = asObject(input);
      const notional = Number(quantity) * Number(price);
      const reservationId = reservationIdOf(ctx.idempotencyKey);
      ledger.record(`reservation:${ctx.idempotencyKey}`, { kind: 'reservation', key: ctx.idempotencyKey, reservationId, account: String(account), notional });
      return { reservationId, notional, limit: 10_000_000, approved: true };
    },
    'release-risk-limit': (input, ctx) => {
      // The reservation named by the step's output, or (the step never answered) made under its key.
      const named = asObject(input).reservationId;
      const ids = typeof named === 'string' ? [named] : keysOf(ctx).filter((key) => ledger.journal.has(`reservation:${key}`)).map(reservationIdOf);
      for (const reservationId of ids) ledger.record(`release:${reservationId}`, { kind: 'release', reservationId });
      return { reservationIds: ids, released: true };
    },
    'decide-trade': (input) => {
      const { side, quantity } = asObject(input);
      return { side: side ?? 'buy', quantity: quantity ?? 0, orderType: 'limit', rationale: 'signals within risk limits' };
    },
    'verify-compliance': (_input, ctx) => {
      if (dice(workflowOf(ctx.idempotencyKey), 'compliance') < rates.rejectionRate) {
        throw new AgentFailure('Compliance rejected the trade: restricted list (simulated)', 'compliance-rejected', false);
      }
      return { approved: true, approvalId: `cmp-${workflowOf(ctx.idempotencyKey)}` };
    },
    'execute-order': (input, ctx) => {
      // Placed once per key (the key is the client order id); a redelivery gets the same fill back.
      const { account, symbol, decision } = asObject(input);
      const order = asObject(decision);
      const orderId = orderIdOf(ctx.idempotencyKey);
      const quantity = Number(order.quantity ?? 0);
      const price = 100;
      const side = String(order.side ?? 'buy');
      ledger.record(`order:${ctx.idempotencyKey}`, { kind: 'order', key: ctx.idempotencyKey, orderId, account: String(account), symbol: String(symbol), side, quantity, price });
      return { orderId, filledQuantity: quantity, averagePrice: price, side };
    },
    'cancel-or-reverse-order': (input, ctx) => {
      // The order named by the fill, or (the execution failed or timed out: no fill) any order placed
      // under the execution's key. Nothing placed: nothing to undo, and that is a success.
      const named = asObject(input).orderId;
      const ids = typeof named === 'string' ? [named] : keysOf(ctx).filter((key) => ledger.journal.has(`order:${key}`)).map(orderIdOf);
      const reversed = ids.filter((orderId) => ledger.record(`reversal:${orderId}`, { kind: 'reversal', orderId }));
      return { orderIds: ids, reversed: reversed.length > 0, reversalOrderIds: reversed.map((id) => `rev-${id}`) };
    },
    'verify-execution': (input, ctx) => {
      if (dice(workflowOf(ctx.idempotencyKey), 'post-trade') < rates.postTradeFailureRate) {
        throw new AgentFailure('Post-trade check failed: fill does not match the approval (simulated)', 'post-trade-mismatch', false);
      }
      return { verified: true, orderId: asObject(asObject(input).execution).orderId ?? null };
    },
  };
}

const orderIdOf = (key: string): string => `ord-${key.replace(/:/g, '-')}`;
const reservationIdOf = (key: string): string => `risk-${key.split(':')[0] ?? key}`;

/** The keys a compensation undoes (see AgentCall.compensates). */
function keysOf(ctx: ActionContext): readonly string[] {
  return ctx.call.compensates ?? [];
}

function asObject(value: Json | undefined): Record<string, Json | undefined> {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? value : {};
}

/** A uniform number in [0, 1) from a string (FNV-1a, then a 32-bit mix). */
export function uniform(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b);
  hash ^= hash >>> 13;
  return (hash >>> 0) / 4_294_967_296;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve();
    }, { once: true });
  });
}
