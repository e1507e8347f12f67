/**
 * The agents a workflow's history called, per capability, in order of first use: the default
 * candidates when a fork or an operator command schedules calls outside the runtime (which knows
 * the live registry).
 */
import type { WorkflowEvent } from '../saga/events.js';

export class AgentUsage {
  private readonly byCapability = new Map<string, string[]>();

  observe(event: WorkflowEvent): void {
    if (event.type !== 'StepScheduled' && event.type !== 'CompensationScheduled') return;
    const agents = this.byCapability.get(event.data.capability) ?? [];
    if (!agents.includes(event.data.agentId)) agents.push(event.data.agentId);
    this.byCapability.set(event.data.capability, agents);
  }

  readonly candidates = (capability: string): readonly string[] => this.byCapability.get(capability) ?? [];
}
