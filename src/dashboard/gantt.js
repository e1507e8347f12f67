// The Gantt chart of a workflow: one row per step, a bar per attempt and per compensation attempt
// on a shared time axis, coloured by outcome, with the agent, duration and error in the tooltip.
import { html } from './html.js';
import { duration } from './format.js';

const ROW = 26;
const LABEL_W = 140;
const WIDTH = 900;

export function Gantt({ calls, startedAt, now }) {
  if (!calls || calls.length === 0) return html`<p class="empty">No attempts yet.</p>`;
  const rows = [];
  for (const call of calls) if (!rows.includes(call.stepId)) rows.push(call.stepId);
  const start = Math.min(startedAt ?? Infinity, ...calls.map((c) => c.startedAt));
  const end = Math.max(start + 1, ...calls.map((c) => c.endedAt ?? now));
  const x = (t) => LABEL_W + ((t - start) / (end - start)) * (WIDTH - LABEL_W - 40);
  const height = rows.length * ROW + 24;
  const ticks = Array.from({ length: 5 }, (_, i) => start + ((end - start) * i) / 4);
  return html`<svg class="gantt" viewBox=${`0 0 ${WIDTH} ${height}`} width="100%" role="img" aria-label="attempts and compensations over time">
    ${ticks.map((t) => html`<g class="tick"><line x1=${x(t)} x2=${x(t)} y1="0" y2=${height - 18} /><text x=${x(t)} y=${height - 4}>+${duration(t - start)}</text></g>`)}
    ${rows.map((id, i) => html`<text class="row-label" x="4" y=${i * ROW + 17}>${id}</text>`)}
    ${calls.map((call) => {
      const y = rows.indexOf(call.stepId) * ROW + 4 + (call.kind === 'compensation' ? 9 : 0);
      const x0 = x(call.startedAt);
      const w = Math.max(3, x(call.endedAt ?? now) - x0);
      const took = call.durationMs ?? (now - call.startedAt);
      const tip = `${call.stepId} ${call.kind} #${call.attempt}${call.agentId ? ` on ${call.agentId}` : ''}: ${call.outcome}, ${duration(took)}${call.error ? ` (${call.error})` : ''}`;
      return html`<rect class=${`bar ${call.kind} outcome-${call.outcome}`} data-step=${call.stepId} data-kind=${call.kind} data-outcome=${call.outcome}
        x=${x0} y=${y} width=${w} height=${call.kind === 'compensation' ? 9 : 12} rx="2"><title>${tip}</title></rect>`;
    })}
  </svg>
  <table class="list calls">
    <thead><tr><th>step</th><th>kind</th><th>attempt</th><th>agent</th><th>outcome</th><th>duration</th><th>error</th></tr></thead>
    <tbody>${calls.map((c) => html`<tr data-step=${c.stepId}><td>${c.stepId}</td><td>${c.kind}</td><td>${c.attempt}</td><td>${c.agentId ?? ''}</td>
      <td><span class=${`badge outcome-${c.outcome}`}>${c.outcome}</span></td><td>${duration(c.durationMs ?? now - c.startedAt)}</td><td class="error-text">${c.error ?? ''}</td></tr>`)}</tbody>
  </table>`;
}
