/**
 * Recorded histories: event streams written by an earlier build, stored as JSON. Each must still
 * parse (with upcasting) and fold to the same outcome, so a schema or evolve change that would break
 * replay of workflows already in a store fails here first. New fixtures are added, never rewritten.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { foldEvents, inFlightCalls, parseWorkflowEvent, pendingTimers, stepStates } from '../../src/saga/index.js';
import { eventId } from '../../src/saga/events.js';

function load(name: string) {
  const raw = JSON.parse(readFileSync(new URL(`./histories/${name}`, import.meta.url), 'utf8')) as { id: string; type: string; data: unknown; metadata: unknown }[];
  return raw.map((e) => parseWorkflowEvent(e.type, e.data, e.metadata, e.id));
}

describe('recorded history: trading pipeline, post-trade check fails, order reversed (v1)', () => {
  const events = load('trading-reversed.v1.json');

  it('folds to the recorded outcome', () => {
    const state = foldEvents(events);
    expect(state.status).toBe('compensated');
    expect(state.revision).toBe(28);
    expect(stepStates(state).map((s) => [s.id, s.status, s.attempt, s.compensation.status])).toEqual([
      ['market-data', 'succeeded', 1, 'none'],
      ['technical-analysis', 'succeeded', 1, 'none'],
      ['sentiment-analysis', 'succeeded', 1, 'none'],
      ['risk-assessment', 'succeeded', 1, 'succeeded'],
      ['trading-decision', 'succeeded', 1, 'none'],
      ['compliance', 'succeeded', 2, 'none'],
      ['trade-execution', 'succeeded', 1, 'succeeded'],
      ['post-trade-check', 'failed', 1, 'none'],
    ]);
    expect(pendingTimers(state)).toEqual([]);
    expect(inFlightCalls(state)).toEqual([]);
  });

  it('replays any prefix: mid-compensation the reversal is the call in flight', () => {
    const at = events.findIndex((e) => e.type === 'CompensationScheduled');
    const state = foldEvents(events.slice(0, at + 1));
    expect(state.status).toBe('compensating');
    expect(inFlightCalls(state)).toMatchObject([{ kind: 'compensation', stepId: 'trade-execution', input: { orderId: 'o-77' } }]);
  });

  it('has the ids eventId gives today: the same decision always gets the same id (events.md, "What every event carries")', () => {
    // Step events are keyed by their attempt (a retry by the attempt it schedules), pause rounds by
    // the round, once-only events by nothing; the decider of this history was the default ('').
    for (const event of events) {
      const data = event.data as { workflowId: string; stepId?: string; attempt?: number; nextAttempt?: number; round?: number };
      expect(event.id).toBe(eventId(data.workflowId, event.type, data.stepId, data.nextAttempt ?? data.attempt ?? data.round));
    }
    expect(events).toHaveLength(29);
  });
});
