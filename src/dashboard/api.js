// Talking to the API: one fetch wrapper that sends the bearer token (kept in sessionStorage once
// the page asked for it), and live events read from the SSE route with fetch, because EventSource
// cannot send a header: the token never goes into a URL, and a reconnect resumes with Last-Event-ID.
import { html } from './html.js';

const TOKEN_KEY = 'cadenza.token';
export const API = '/api/v1';

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem?.detail ?? `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
  }
}

/** Called with no argument when the API says the token is missing or wrong; app.js shows the prompt. */
let onUnauthorized = () => {};
export const setUnauthorizedHandler = (handler) => { onUnauthorized = handler; };
export const getToken = () => sessionStorage.getItem(TOKEN_KEY);
export const setToken = (token) => (token ? sessionStorage.setItem(TOKEN_KEY, token) : sessionStorage.removeItem(TOKEN_KEY));

function headers(extra = {}) {
  const token = getToken();
  return token ? { ...extra, authorization: `Bearer ${token}` } : extra;
}

export async function api(path, { method = 'GET', body, query } = {}) {
  const url = new URL(`${API}${path}`, location.origin);
  for (const [key, value] of Object.entries(query ?? {})) if (value !== undefined && value !== '' && value !== null) url.searchParams.set(key, String(value));
  const response = await fetch(url, {
    method,
    headers: headers(body === undefined ? {} : { 'content-type': 'application/json' }),
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  const data = text === '' ? null : JSON.parse(text);
  if (response.status === 401) onUnauthorized();
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
}

/**
 * Follows `/api/v1/events` (optionally one workflow's) and calls `onEvent(frame)` for each stored
 * event. Reconnects after a dropped connection with the last id seen. Returns a function that stops.
 */
export function followEvents({ workflowId, onEvent, onLive }) {
  const controller = new AbortController();
  let lastEventId;
  let stopped = false;
  const run = async () => {
    while (!stopped) {
      try {
        const url = new URL(`${API}/events`, location.origin);
        if (workflowId) url.searchParams.set('workflowId', workflowId);
        const response = await fetch(url, { headers: headers(lastEventId ? { 'last-event-id': lastEventId } : {}), signal: controller.signal });
        if (response.status === 401) { onUnauthorized(); return; }
        if (!response.ok || !response.body) throw new Error(`events: HTTP ${response.status}`);
        await readFrames(response.body, (frame) => {
          if (frame.event === 'caught-up') onLive?.();
          if (frame.id === undefined || frame.data === undefined) return;
          lastEventId = frame.id;
          onEvent(JSON.parse(frame.data));
        });
      } catch (error) {
        if (stopped) return;
        console.warn('live events interrupted; reconnecting', error);
      }
      if (!stopped) await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  };
  void run();
  return () => { stopped = true; controller.abort(); };
}

/** The SSE wire format: frames separated by a blank line, `field: value` lines, `:` comments. */
async function readFrames(body, onFrame) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value;
    let end;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const frame = {};
      for (const line of buffer.slice(0, end).split('\n')) {
        if (line === '' || line.startsWith(':')) continue;
        const colon = line.indexOf(':');
        frame[line.slice(0, colon)] = line.slice(colon + 1).replace(/^ /, '');
      }
      buffer = buffer.slice(end + 2);
      onFrame(frame);
    }
  }
}

/** Runs `fn` at most once per `ms`, and once more after the last call: refreshes driven by bursts of events. */
export function throttle(fn, ms) {
  let timer = null;
  let again = false;
  return () => {
    if (timer) { again = true; return; }
    fn();
    timer = setTimeout(function tick() {
      if (again) { again = false; fn(); timer = setTimeout(tick, ms); } else timer = null;
    }, ms);
  };
}

export const ErrorLine = ({ error }) => (error ? html`<p class="error" role="alert">${error.message ?? String(error)}</p>` : null);
