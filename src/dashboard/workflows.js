// The workflows list: the workflow-status read model with status filters, progress and ETA, kept
// live by following the event stream (each burst of events refreshes the page of the list shown).
import { useEffect, useState } from 'preact/hooks';
import { api, ErrorLine, followEvents, throttle } from './api.js';
import { html } from './html.js';
import { dateTime, duration } from './format.js';

const statuses = ['queued', 'running', 'paused', 'compensating', 'completed', 'failed', 'compensated', 'compensationFailed', 'cancelled', 'resolved'];
const PAGE = 50;

export function WorkflowsPage() {
  const [selected, setSelected] = useState(() => new Set());
  const [offset, setOffset] = useState(0);
  const [page, setPage] = useState(null);
  const [error, setError] = useState(null);

  useEffect(() => {
    let current = true;
    const load = () =>
      api('/workflows', { query: { status: [...selected].join(','), offset, limit: PAGE } })
        .then((data) => { if (current) { setPage(data); setError(null); } })
        .catch((e) => current && setError(e));
    const refresh = throttle(load, 250);
    load();
    // Once live, load again: a workflow that started between the first load and the subscription shows.
    const stop = followEvents({ onEvent: refresh, onLive: refresh });
    return () => { current = false; stop(); };
  }, [selected, offset]);

  const toggle = (status) => {
    const next = new Set(selected);
    if (next.has(status)) next.delete(status); else next.add(status);
    setSelected(next);
    setOffset(0);
  };

  return html`<section>
    <h1>Workflows ${page ? html`<small>${page.total}</small>` : null}</h1>
    <div class="filters" role="group" aria-label="status filter">
      ${statuses.map((s) => html`<label class="chip status-${s}"><input type="checkbox" name="status" value=${s} checked=${selected.has(s)} onChange=${() => toggle(s)} /> ${s}</label>`)}
    </div>
    <${ErrorLine} error=${error} />
    <table class="list workflows">
      <thead><tr><th>workflow</th><th>definition</th><th>status</th><th>progress</th><th>steps</th><th>ETA / duration</th><th>started</th></tr></thead>
      <tbody>
        ${(page?.workflows ?? []).map((w) => html`<tr data-workflow-id=${w.workflowId} data-status=${w.status}>
          <td><a href="#/workflow/${encodeURIComponent(w.workflowId)}">${w.workflowId}</a></td>
          <td>${w.definition.name} <small>v${w.definition.version}</small></td>
          <td><span class="badge status-${w.status}">${w.status}</span>${w.status === 'queued' && w.priority ? html` <small>priority ${w.priority}</small>` : ''}</td>
          <td><${Progress} workflow=${w} /></td>
          <td>${w.steps.completed}/${w.steps.total}${w.steps.failed ? html` <span class="bad">${w.steps.failed} failed</span>` : ''}${w.running.length ? html` <small>${w.running.map((r) => r.stepId).join(', ')}</small>` : ''}</td>
          <td>${w.eta ? html`<span title=${`from ${w.eta.samples} samples`}>${duration(w.eta.remainingMs)} left</span>` : duration(w.durationMs)}</td>
          <td>${dateTime(w.startedAt)}</td>
        </tr>`)}
      </tbody>
    </table>
    ${page && page.total === 0 ? html`<p class="empty">No workflows${selected.size ? ' with these statuses' : ' yet'}.</p>` : null}
    <div class="pager">
      <button disabled=${offset === 0} onClick=${() => setOffset(Math.max(0, offset - PAGE))}>newer</button>
      <button disabled=${!page || page.nextOffset === null} onClick=${() => setOffset(page.nextOffset)}>older</button>
    </div>
  </section>`;
}

function Progress({ workflow }) {
  const compensation = workflow.compensation;
  const value = compensation && workflow.status !== 'completed' ? compensation.progress : workflow.progress;
  const label = compensation ? `compensation ${compensation.compensated}/${compensation.total}` : `${workflow.progress}%`;
  return html`<div class="progress" title=${label}><div class=${compensation ? 'bar comp' : 'bar'} style=${`width:${value}%`}></div><span>${label}</span></div>`;
}
