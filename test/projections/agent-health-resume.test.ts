/**
 * Agent health across a restart: a call re-sent by StepResumed / CompensationResumed to another
 * agent is in flight at that agent, not at the first, and its outcome is counted for the agent
 * that answered. A workflow an operator resolves no longer counts its open calls as in flight.
 */
import { describe, expect, it } from 'vitest';
import { agentHealthFold, type AgentHealthDoc } from '../../projections/agent-health/fold.js';
import { foldDocs } from '../../src/projections/doc-fold.js';
import type { RecordedEvent } from '../../src/store/port.js';

const workflowId = 'wf-1';
let revision = 0n;
function recorded(type: string, data: Record<string, unknown>): RecordedEvent {
  const at = 1_000 + Number(revision);
  const event: RecordedEvent = {
    id: `00000000-0000-4000-8000-${String(revision).padStart(12, '0')}`,
    type,
    data: { workflowId, at, ...data },
    metadata: {},
    stream: `workflow-${workflowId}`,
    revision,
    position: { commit: revision, prepare: revision },
    created: new Date(at),
  };
  revision += 1n;
  return event;
}
const call = (agentId: string) => ({ attempt: 1, agentId, action: 'quote', capability: 'quote', input: {}, deadline: 9_000, idempotencyKey: `${workflowId}:price` });
const resumedAt = (agentId: string) => ({ attempt: 1, agentId, deadline: 9_500, idempotencyKey: `${workflowId}:price`, reason: 'runtime restarted' });

function agents(events: RecordedEvent[]): Map<string, AgentHealthDoc> {
  const docs = foldDocs(agentHealthFold, events);
  return new Map([...docs.values()].flatMap((doc) => (doc.kind === 'agent' ? [[doc.agentId, doc] as const] : [])));
}

describe('agent health when a call is resumed', () => {
  it('moves the open step call to the agent it was re-sent to and counts the outcome there', () => {
    const scheduled = recorded('StepScheduled', { stepId: 'price', ...call('a1') });
    const resumed = recorded('StepResumed', { stepId: 'price', ...resumedAt('a2') });
    const succeeded = recorded('StepSucceeded', { stepId: 'price', attempt: 1, agentId: 'a2', output: {}, durationMs: 12 });

    const whileResumed = agents([scheduled, resumed]);
    expect(whileResumed.get('a1')?.inFlight).toBe(0);
    expect(whileResumed.get('a2')?.inFlight).toBe(1);

    const after = agents([scheduled, resumed, succeeded]);
    expect(after.get('a1')).toMatchObject({ inFlight: 0, succeeded: 0 });
    expect(after.get('a2')).toMatchObject({ inFlight: 0, succeeded: 1, recent: 's' });
  });

  it('leaves the count alone when the call is re-sent to the same agent', () => {
    const events = [recorded('StepScheduled', { stepId: 'price', ...call('a1') }), recorded('StepResumed', { stepId: 'price', ...resumedAt('a1') })];
    expect(agents(events).get('a1')?.inFlight).toBe(1);
  });

  it('moves a resumed compensation call the same way', () => {
    const events = [
      recorded('CompensationScheduled', { stepId: 'price', ...call('a1'), idempotencyKey: `${workflowId}:price:compensate` }),
      recorded('CompensationResumed', { stepId: 'price', ...resumedAt('a3'), idempotencyKey: `${workflowId}:price:compensate` }),
      recorded('CompensationFailed', { stepId: 'price', attempt: 1, agentId: 'a3', error: { code: 'E', message: 'no', retryable: false } }),
    ];
    const after = agents(events);
    expect(after.get('a1')).toMatchObject({ inFlight: 0, failed: 0 });
    expect(after.get('a3')).toMatchObject({ inFlight: 0, failed: 1, recent: 'f' });
  });

  it('stops counting the open calls of a workflow an operator resolved', () => {
    const events = [
      recorded('StepScheduled', { stepId: 'price', ...call('a1') }),
      recorded('WorkflowResolved', { note: 'refunded by hand', unresolvedSteps: ['price'] }),
    ];
    expect(agents(events).get('a1')?.inFlight).toBe(0);
    expect(foldDocs(agentHealthFold, events).has(`calls:${workflowId}`)).toBe(false);
  });
});
