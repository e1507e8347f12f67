// The audit query form (the filters of `cadenza audit` and GET /api/v1/audit), results as a table
// paged by position, and the rows shown as a CSV download.
import { useEffect, useMemo, useState } from 'preact/hooks';
import { api, ErrorLine } from './api.js';
import { html } from './html.js';

const textFields = [
  ['workflowId', 'workflow id'],
  ['correlationId', 'correlation id'],
  ['causationId', 'causation id'],
  ['types', 'event types (comma-separated)'],
  ['agentId', 'agent'],
  ['stepId', 'step'],
  ['stream', 'stream or category'],
];
const columns = ['position', 'time', 'stream', 'revision', 'type', 'workflowId', 'stepId', 'agentId', 'correlationId', 'causationId', 'eventId'];

/** RFC 4180: quote every field that needs it, double the quotes inside. */
export function toCsv(rows, withData) {
  const heads = withData ? [...columns, 'data', 'metadata'] : columns;
  const cell = (value) => {
    const text = value === undefined || value === null ? '' : typeof value === 'object' ? JSON.stringify(value) : String(value);
    return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
  };
  return [heads.join(','), ...rows.map((row) => heads.map((h) => cell(row[h])).join(','))].join('\r\n') + '\r\n';
}

/** datetime-local gives local time without a zone; the API wants ISO 8601 with one. */
const isoOf = (local) => (local ? new Date(local).toISOString() : undefined);

export function AuditPage() {
  const [form, setForm] = useState({ order: 'asc', limit: '100', data: false });
  const [rows, setRows] = useState(null);
  const [next, setNext] = useState(null);
  const [error, setError] = useState(null);
  const set = (name) => (e) => setForm({ ...form, [name]: e.target.type === 'checkbox' ? e.target.checked : e.target.value });

  const run = async (after) => {
    try {
      const query = { ...form, since: isoOf(form.since), until: isoOf(form.until), data: form.data ? 'true' : undefined, after };
      const page = await api('/audit', { query });
      setRows(after ? [...(rows ?? []), ...page.events] : page.events);
      setNext(page.next);
      setError(null);
    } catch (e) {
      setError(e);
    }
  };
  const csvHref = useMemo(() => (rows ? URL.createObjectURL(new Blob([toCsv(rows, form.data)], { type: 'text/csv' })) : null), [rows, form.data]);
  useEffect(() => () => csvHref && URL.revokeObjectURL(csvHref), [csvHref]);

  return html`<section>
    <h1>Audit</h1>
    <form class="audit card" onSubmit=${(e) => { e.preventDefault(); void run(); }}>
      ${textFields.map(([name, label]) => html`<label>${label}<input name=${name} value=${form[name] ?? ''} onInput=${set(name)} /></label>`)}
      <label>since<input type="datetime-local" step="1" name="since" value=${form.since ?? ''} onInput=${set('since')} /></label>
      <label>until<input type="datetime-local" step="1" name="until" value=${form.until ?? ''} onInput=${set('until')} /></label>
      <label>order<select name="order" value=${form.order} onChange=${set('order')}><option value="asc">oldest first</option><option value="desc">newest first</option></select></label>
      <label>limit<input type="number" min="1" max="10000" name="limit" value=${form.limit} onInput=${set('limit')} /></label>
      <label class="inline"><input type="checkbox" name="data" checked=${form.data} onChange=${set('data')} /> with data and metadata</label>
      <div class="buttons"><button type="submit">query</button>
        ${rows ? html`<a class="button" download="cadenza-audit.csv" href=${csvHref} data-testid="csv">download CSV (${rows.length} rows)</a>` : ''}</div>
    </form>
    <${ErrorLine} error=${error} />
    ${rows ? html`<table class="list audit-results"><thead><tr>${columns.slice(0, 8).map((c) => html`<th>${c}</th>`)}${form.data ? html`<th>data</th>` : ''}</tr></thead>
      <tbody>${rows.map((r) => html`<tr data-type=${r.type}>${columns.slice(0, 8).map((c) => html`<td>${c === 'workflowId' && r.workflowId ? html`<a href="#/workflow/${encodeURIComponent(r.workflowId)}">${r.workflowId}</a>` : r[c] ?? ''}</td>`)}
        ${form.data ? html`<td><code>${JSON.stringify(r.data)}</code></td>` : ''}</tr>`)}</tbody></table>
      ${rows.length === 0 ? html`<p class="empty">No events match.</p>` : ''}
      ${next ? html`<button onClick=${() => run(next)}>more</button>` : ''}` : ''}
  </section>`;
}
