// Agents (health, circuit state, in-flight calls, success rate) and steps (p50/p95/p99 latency and
// failure rate per step and per agent, tables and uPlot charts), from the API's read models,
// refreshed as workflow events arrive.
import uPlot from 'uplot';
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, ErrorLine, followEvents, throttle } from './api.js';
import { html } from './html.js';
import { dateTime, duration, percent } from './format.js';

/** Loads `path` now and again (at most once a second) while workflow events arrive. */
function useLiveReadModel(path) {
  const [data, setData] = useState(null);
  const [error, setError] = useState(null);
  useEffect(() => {
    let current = true;
    const load = () => api(path).then((d) => { if (current) { setData(d); setError(null); } }, (e) => current && setError(e));
    load();
    const refresh = throttle(load, 1000);
    const stop = followEvents({ onEvent: refresh, onLive: refresh });
    return () => { current = false; stop(); };
  }, [path]);
  return [data, error];
}

export function AgentsPage() {
  const [data, error] = useLiveReadModel('/read-models/agent-health');
  return html`<section>
    <h1>Agents</h1>
    <${ErrorLine} error=${error} />
    <table class="list agents">
      <thead><tr><th>agent</th><th>capabilities</th><th>health</th><th>circuit</th><th>in flight</th><th>calls ok / failed / timed out</th><th>success rate</th><th>recent</th><th>p50 / p95</th><th>last seen</th></tr></thead>
      <tbody>${(data?.agents ?? []).map((a) => html`<tr data-agent=${a.agentId}>
        <td>${a.agentId}</td><td>${a.capabilities.join(', ')}</td>
        <td><span class=${`badge ${health(a)}`}>${health(a)}</span></td>
        <td><span class=${`badge circuit-${a.circuit}`}>${a.circuit}</span>${a.circuitReason ? html` <small>${a.circuitReason}</small>` : ''}</td>
        <td>${a.inFlight}</td><td>${a.calls.succeeded} / ${a.calls.failed} / ${a.calls.timedOut}</td>
        <td>${percent(a.successRate)}</td><td>${percent(a.recentSuccessRate)}</td>
        <td>${duration(a.latencyMs.p50)} / ${duration(a.latencyMs.p95)}</td><td>${dateTime(a.lastSeenAt)}</td>
      </tr>`)}</tbody>
    </table>
    ${data && data.agents.length === 0 ? html`<p class="empty">No agents registered.</p>` : ''}
  </section>`;
}

/** One word for the row's colour: unregistered, circuit open, failing lately, or healthy. */
function health(agent) {
  if (!agent.registered) return 'unregistered';
  if (agent.circuit === 'open') return 'unavailable';
  if (agent.circuit === 'half-open' || (agent.recentSuccessRate !== undefined && agent.recentSuccessRate < 0.9)) return 'degraded';
  return 'healthy';
}

export function StepsPage() {
  const [data, error] = useLiveReadModel('/read-models/step-metrics');
  const steps = data?.steps ?? [];
  const agents = data?.agents ?? [];
  return html`<section>
    <h1>Steps</h1>
    <${ErrorLine} error=${error} />
    <div class="columns">
      <div class="card"><h2>Latency per step (ms)</h2><${LatencyChart} by="step" rows=${steps.map((s) => ({ label: `${s.definition}/${s.stepId}`, ...s }))} /></div>
      <div class="card"><h2>Failure rate per step</h2><${RateChart} by="step" rows=${steps.map((s) => ({ label: `${s.definition}/${s.stepId}`, ...s }))} /></div>
    </div>
    <${MetricsTable} caption="per step" rows=${steps.map((s) => ({ key: `${s.definition}/${s.stepId}`, ...s }))} extra=${(s) => html`<td>${s.retries}</td><td>${s.compensations ? `${s.compensations.succeeded ?? 0}/${s.compensations.attempts ?? 0}` : ''}</td>`} extraHeads=${['retries', 'compensations ok/run']} />
    <div class="columns">
      <div class="card"><h2>Latency per agent (ms)</h2><${LatencyChart} by="agent" rows=${agents.map((a) => ({ label: a.agentId, ...a }))} /></div>
      <div class="card"><h2>Failure rate per agent</h2><${RateChart} by="agent" rows=${agents.map((a) => ({ label: a.agentId, ...a }))} /></div>
    </div>
    <${MetricsTable} caption="per agent" rows=${agents.map((a) => ({ key: a.agentId, ...a }))} />
  </section>`;
}

function MetricsTable({ caption, rows, extra, extraHeads = [] }) {
  return html`<table class="list metrics"><caption>${caption}</caption>
    <thead><tr><th></th><th>attempts</th><th>ok</th><th>failed</th><th>timed out</th><th>failure rate</th><th>p50</th><th>p95</th><th>p99</th>${extraHeads.map((h) => html`<th>${h}</th>`)}</tr></thead>
    <tbody>${rows.map((r) => html`<tr data-key=${r.key}><td>${r.key}</td><td>${r.attempts}</td><td>${r.succeeded}</td><td>${r.failed}</td><td>${r.timedOut}</td>
      <td>${percent(r.failureRate)}</td><td>${duration(r.latencyMs.p50)}</td><td>${duration(r.latencyMs.p95)}</td><td>${duration(r.latencyMs.p99)}</td>${extra ? extra(r) : ''}</tr>`)}</tbody>
  </table>`;
}

/** A uPlot chart over categories (x is the row index, labelled with the row's name); redrawn when the rows change. */
function CategoryChart({ rows, series, makeOptions }) {
  const ref = useRef(null);
  useEffect(() => {
    if (!ref.current || rows.length === 0) return;
    const x = rows.map((_, i) => i);
    const data = [x, ...series.map((s) => rows.map((r) => s.value(r) ?? null))];
    const width = Math.max(320, ref.current.clientWidth || 480);
    const chart = new uPlot(makeOptions({ width, labels: rows.map((r) => r.label) }), data, ref.current);
    return () => chart.destroy();
  }, [JSON.stringify(rows.map((r) => [r.label, ...series.map((s) => s.value(r))]))]);
  if (rows.length === 0) return html`<p class="empty">No data yet.</p>`;
  return html`<div class="chart" ref=${ref}></div>`;
}

const categoryAxis = (labels) => ({ values: (_u, splits) => splits.map((i) => (Number.isInteger(i) ? labels[i] ?? '' : '')), size: 60, gap: 4, rotate: -20 });
const categoryScale = { time: false, range: (_u, min, max) => [min - 0.5, max + 0.5] };

function LatencyChart({ rows, by }) {
  const series = [
    { label: 'p50', value: (r) => r.latencyMs.p50, stroke: '#2b8a3e' },
    { label: 'p95', value: (r) => r.latencyMs.p95, stroke: '#e67700' },
    { label: 'p99', value: (r) => r.latencyMs.p99, stroke: '#c92a2a' },
  ];
  return html`<${CategoryChart} rows=${rows} series=${series} makeOptions=${({ width, labels }) => ({
    width, height: 220, scales: { x: categoryScale },
    axes: [categoryAxis(labels), { label: 'ms' }],
    // Points only: a line between two steps would suggest an order that is not there.
    series: [{ label: by, value: (_u, i) => labels[i] ?? '' }, ...series.map((s) => ({ label: s.label, stroke: s.stroke, fill: s.stroke, paths: () => null, points: { show: true, size: 9, space: 0, fill: s.stroke } }))],
  })} />`;
}

function RateChart({ rows, by }) {
  const series = [{ label: 'failure rate', value: (r) => (r.failureRate === undefined ? null : r.failureRate * 100) }];
  return html`<${CategoryChart} rows=${rows} series=${series} makeOptions=${({ width, labels }) => ({
    width, height: 220, scales: { x: categoryScale, y: { range: [0, 100] } },
    axes: [categoryAxis(labels), { label: '%' }],
    series: [{ label: by, value: (_u, i) => labels[i] ?? '' }, { label: 'failure rate %', stroke: '#c92a2a', fill: 'rgba(201,42,42,0.35)', paths: uPlot.paths.bars({ size: [0.6, 60] }), points: { show: false } }],
  })} />`;
}
