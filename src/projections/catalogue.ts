/** The read models cadenza ships, by name. Each call returns fresh instances (their caches are per runner). */
import { agentHealthProjection } from '../../projections/agent-health/index.js';
import { AuditIndexProjection } from '../../projections/audit-index/storage.js';
import { stepMetricsProjection } from '../../projections/step-metrics/index.js';
import { workflowStatusProjection } from '../../projections/workflow-status/index.js';
import type { Projection } from './projection.js';

export const projectionNames = ['workflow-status', 'step-metrics', 'agent-health', 'audit-index'] as const;
export type ProjectionName = (typeof projectionNames)[number];

export function createProjection(name: ProjectionName): Projection {
  switch (name) {
    case 'workflow-status':
      return workflowStatusProjection();
    case 'step-metrics':
      return stepMetricsProjection();
    case 'agent-health':
      return agentHealthProjection();
    case 'audit-index':
      return new AuditIndexProjection();
  }
}

export function isProjectionName(name: string): name is ProjectionName {
  return (projectionNames as readonly string[]).includes(name);
}

export function createProjections(names: readonly ProjectionName[] = projectionNames): Projection[] {
  return names.map(createProjection);
}
