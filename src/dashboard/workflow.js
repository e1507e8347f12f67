// One workflow: its DAG coloured by step state, the Gantt of attempts and compensations, the event
// timeline with each event's JSON, a replay slider (every view shows the workflow as it was at the
// chosen revision, replayed by the API), and operator commands behind a confirmation.
import { useEffect, useState } from 'preact/hooks';
import { api, ErrorLine, followEvents, throttle } from './api.js';
import { Dag, Legend } from './dag.js';
import { Gantt } from './gantt.js';
import { html } from './html.js';
import { dateTime, duration, time } from './format.js';

/** Which statuses each command is offered in (the API rejects the rest with 409 anyway). */
const commands = {
  retry: { statuses: ['paused'], ask: 'Give the failed steps a new round of attempts?' },
  compensate: { statuses: ['running', 'paused', 'compensationFailed'], ask: 'Roll the workflow back by compensation?', field: 'reason' },
  cancel: { statuses: ['queued', 'running', 'paused'], ask: 'Cancel the workflow (its completed steps are compensated)?', field: 'reason' },
  resolve: { statuses: ['failed', 'compensationFailed'], ask: 'Record that this was resolved by hand?', field: 'note', required: true },
};

/** The timeline shows this many events before the revision shown and after it: a long history is never loaded whole. */
const TIMELINE_AROUND = 150;

export function WorkflowPage({ workflowId }) {
  const path = `/workflows/${encodeURIComponent(workflowId)}`;
  const [graph, setGraph] = useState(null);
  const [head, setHead] = useState(null); // latest revision
  const [revision, setRevision] = useState(null); // null: follow the head
  const [view, setView] = useState(null); // { state, status, lastEvent } at the revision shown
  const [calls, setCalls] = useState(null);
  const [history, setHistory] = useState([]);
  const [selected, setSelected] = useState(null);
  const [error, setError] = useState(null);
  const [tick, setTick] = useState(0); // bumped by live events

  useEffect(() => {
    api(`${path}/graph`).then(setGraph, setError);
    const refresh = throttle(() => setTick((t) => t + 1), 200);
    return followEvents({ workflowId, onEvent: refresh, onLive: refresh });
  }, [workflowId]);

  useEffect(() => {
    let current = true;
    const query = revision === null ? {} : { revision };
    Promise.all([api(`${path}/state`, { query }), revision === null ? null : api(`${path}/state`), api(`${path}/calls`, { query })])
      .then(async ([state, headState, callList]) => {
        const top = (headState ?? state).lastEvent.revision;
        const from = Math.max(0, (revision ?? top) - TIMELINE_AROUND);
        const page = await api(`${path}/history`, { query: { fromRevision: from, limit: 2 * TIMELINE_AROUND + 1 } });
        if (!current) return;
        setView(state);
        setCalls(callList);
        setHead(top);
        setHistory(page.events);
        setError(null);
      })
      .catch((e) => current && setError(e));
    return () => { current = false; };
  }, [workflowId, revision, tick]);

  if (error && !view) return html`<section><h1>${workflowId}</h1><${ErrorLine} error=${error} /></section>`;
  if (!graph || !view || head === null) return html`<section><h1>${workflowId}</h1><p>Loading…</p></section>`;

  const shown = revision ?? head;
  const state = view.state;
  const status = view.status;
  const atTime = view.lastEvent ? Date.parse(view.lastEvent.created) : Date.now();
  const now = revision === null && status && !status.endedAt ? Date.now() : atTime;
  const step = selected ? state.steps.find((s) => s.id === selected) : null;

  return html`<section class="workflow">
    <h1>${workflowId} <span class="badge status-${state.status}" data-testid="workflow-status">${state.status}</span></h1>
    <p class="meta">${graph.definition.name} v${graph.definition.version} · <code title="definition hash">${graph.definition.hash.slice(0, 19)}</code> · started ${dateTime(state.startedAt)}${
      status ? ` · ${duration(status.elapsedMs)}` : ''}${state.lastError ? html` · <span class="bad">${state.lastError.stepId ? `${state.lastError.stepId}: ` : ''}${state.lastError.message}</span>` : ''}</p>
    <${ErrorLine} error=${error} />
    <${Operator} workflowId=${workflowId} status=${state.status} live=${revision === null} onDone=${() => setTick((t) => t + 1)} />

    <div class="replay card">
      <label for="replay">revision <strong data-testid="revision">${shown}</strong> of ${head}${view.lastEvent ? html` · <span>${view.lastEvent.type} at ${time(view.lastEvent.created)}</span>` : ''}</label>
      <input id="replay" name="revision" type="range" min="0" max=${head ?? 0} step="1" value=${shown}
        onInput=${(e) => { const r = Number(e.target.value); setRevision(r >= head ? null : r); }} />
      <button onClick=${() => setRevision(null)} disabled=${revision === null}>${revision === null ? 'live' : 'back to live'}</button>
    </div>

    <div class="card"><h2>Steps</h2><${Legend} />
      <div class="dag-wrap"><${Dag} graph=${graph} steps=${state.steps} selected=${selected} onSelect=${setSelected} /></div>
      ${step ? html`<div class="step-detail"><h3>${step.id}</h3><p>${step.status} · attempt ${step.attempt}${step.agentId ? ` · ${step.agentId}` : ''} · compensation ${step.compensation}</p>
        ${step.lastError ? html`<p class="bad">${step.lastError}</p>` : ''}${step.output !== undefined ? html`<pre>${JSON.stringify(step.output, null, 2)}</pre>` : ''}</div>` : ''}
    </div>

    <div class="card"><h2>Attempts and compensations</h2><${Gantt} calls=${calls?.calls} startedAt=${calls?.startedAt} now=${now} /></div>

    <div class="columns">
      <div class="card"><h2>Data at revision ${shown}</h2><pre class="data" data-testid="workflow-data">${JSON.stringify(state.data ?? null, null, 2)}</pre></div>
      <div class="card"><h2>Events ${history.length && (history[0].revision > 0 || history[history.length - 1].revision < head) ? html`<small>${history[0].revision}-${history[history.length - 1].revision} of 0-${head}</small>` : ''}</h2><ol class="timeline">
        ${history.map((e) => html`<li class=${e.revision > shown ? 'future' : ''} data-revision=${e.revision}>
          <details><summary><code>${e.revision}</code> ${e.type} ${e.data?.stepId ? html`<small>${e.data.stepId}${e.data.attempt ? ` #${e.data.attempt}` : ''}</small>` : ''} <time>${time(e.created)}</time>
            <button class="link" onClick=${(ev) => { ev.preventDefault(); setRevision(e.revision >= head ? null : e.revision); }}>replay to here</button></summary>
          <pre>${JSON.stringify({ type: e.type, revision: e.revision, position: e.position, created: e.created, id: e.id, data: e.data, metadata: e.metadata }, null, 2)}</pre></details>
        </li>`)}
      </ol></div>
    </div>
  </section>`;
}

function Operator({ workflowId, status, live, onDone }) {
  const [asking, setAsking] = useState(null);
  const [text, setText] = useState('');
  const [result, setResult] = useState(null);
  const [error, setError] = useState(null);
  const send = async (event) => {
    event.preventDefault();
    const command = commands[asking];
    const body = command.field && text.trim() !== '' ? { [command.field]: text.trim() } : {};
    try {
      const answer = await api(`/workflows/${encodeURIComponent(workflowId)}/${asking}`, { method: 'POST', body });
      setResult(`${asking}: ${answer.events.map((e) => e.type).join(', ') || 'accepted'}`);
      setError(null);
    } catch (e) {
      setError(e);
      setResult(null);
    }
    setAsking(null);
    setText('');
    onDone();
  };
  return html`<div class="operator">
    ${Object.entries(commands).map(([name, c]) => html`<button class=${`op op-${name}`} data-command=${name} disabled=${!live || !c.statuses.includes(status)} onClick=${() => setAsking(name)}>${name}</button>`)}
    ${result ? html`<span class="ok" role="status">${result}</span>` : ''}
    <${ErrorLine} error=${error} />
    ${asking ? html`<div class="modal-back"><form class="modal card" role="dialog" aria-modal="true" aria-label=${`confirm ${asking}`} onSubmit=${send}>
      <h2>${asking} ${workflowId}</h2><p>${commands[asking].ask}</p>
      ${commands[asking].field ? html`<label>${commands[asking].field}<input name=${commands[asking].field} required=${commands[asking].required ?? false} value=${text} onInput=${(e) => setText(e.target.value)} /></label>` : ''}
      <div class="buttons"><button type="button" onClick=${() => setAsking(null)}>back</button><button type="submit" class="danger" data-confirm=${asking}>confirm ${asking}</button></div>
    </form></div>` : ''}
  </div>`;
}
