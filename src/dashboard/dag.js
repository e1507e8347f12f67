// The workflow's DAG: dagre lays the definition's steps out left to right, and each step is drawn
// in the colour of its state at the revision shown (format.js names the states).
import dagre from '@dagrejs/dagre';
import { useMemo } from 'preact/hooks';
import { html } from './html.js';
import { stateLabels, stepState } from './format.js';

const NODE_H = 46;
/** Wide enough for the step's id in the node's font (about 8 px a character at 13 px). */
const nodeWidth = (step) => Math.max(120, step.id.length * 8 + 24);

function layout(steps) {
  const g = new dagre.graphlib.Graph();
  g.setGraph({ rankdir: 'LR', nodesep: 18, ranksep: 46, marginx: 8, marginy: 8 });
  g.setDefaultEdgeLabel(() => ({}));
  for (const step of steps) g.setNode(step.id, { width: nodeWidth(step), height: NODE_H });
  for (const step of steps) for (const dep of step.dependsOn) g.setEdge(dep, step.id);
  dagre.layout(g);
  const { width, height } = g.graph();
  return {
    width,
    height,
    nodes: steps.map((step) => ({ step, ...g.node(step.id) })),
    edges: g.edges().map((e) => ({ key: `${e.v}->${e.w}`, points: g.edge(e).points })),
  };
}

export function Dag({ graph, steps, selected, onSelect }) {
  const laid = useMemo(() => layout(graph.steps), [graph]);
  const byId = new Map((steps ?? []).map((s) => [s.id, s]));
  return html`<svg class="dag" viewBox=${`0 0 ${laid.width} ${laid.height}`} width=${laid.width} height=${laid.height} role="img" aria-label="workflow DAG">
    <defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" class="arrowhead" /></marker></defs>
    ${laid.edges.map((e) => html`<polyline key=${e.key} class="edge" points=${e.points.map((p) => `${p.x},${p.y}`).join(' ')} marker-end="url(#arrow)" />`)}
    ${laid.nodes.map(({ step, x, y, width }) => {
      const s = byId.get(step.id);
      const state = stepState(s);
      return html`<g key=${step.id} class=${`node state-${state}${selected === step.id ? ' selected' : ''}`} data-step=${step.id} data-state=${state}
          transform=${`translate(${x - width / 2},${y - NODE_H / 2})`} onClick=${() => onSelect?.(step.id)}>
        <title>${step.id}: ${stateLabels[state] ?? state}${s?.lastError ? ` (${s.lastError})` : ''}</title>
        <rect width=${width} height=${NODE_H} rx="6" />
        <text x="10" y="19" class="id">${step.id}</text>
        <text x="10" y="36" class="sub">${stateLabels[state] ?? state}${s && s.attempt > 1 ? ` · #${s.attempt}` : ''}</text>
      </g>`;
    })}
  </svg>`;
}

export function Legend() {
  return html`<ul class="legend">${['pending', 'running', 'waitingForAgent', 'retrying', 'succeeded', 'failed', 'compensating', 'compensated', 'compensationFailed'].map(
    (state) => html`<li><span class=${`swatch state-${state}`}></span>${stateLabels[state]}</li>`,
  )}</ul>`;
}
