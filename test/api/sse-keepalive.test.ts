/**
 * docs/api.md: "A `: keepalive` comment every 15 s keeps proxies from closing an idle stream." The
 * default is checked without waiting 15 s: only setInterval is faked (the socket, the store and the
 * server run for real), and an event appended at 14.999 s arrives before the first keepalive.
 */
import { request, type IncomingMessage } from 'node:http';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { startApiServer, type ApiServer } from '../../src/api/server.js';
import { openStore } from '../../src/store/open.js';
import type { EventStore } from '../../src/store/port.js';
import { waitFor } from '../support/wait-for.js';

let store: EventStore;
let server: ApiServer;

beforeAll(async () => {
  store = await openStore('memory:');
  server = await startApiServer({ store, port: 0 });
});

afterEach(() => {
  vi.useRealTimers();
});

afterAll(async () => {
  await server?.close();
  await store?.close();
});

/** An open SSE response and everything it has sent so far. */
async function openStream(url: string): Promise<{ text: () => string; close: () => void }> {
  const response = await new Promise<IncomingMessage>((resolve, reject) => {
    request(url, resolve).on('error', reject).end();
  });
  expect(response.headers['content-type']).toContain('text/event-stream');
  let text = '';
  response.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
  return { text: () => text, close: () => response.destroy() };
}

describe('SSE keepalive', () => {
  it('writes a ": keepalive" comment every 15 s by default, not sooner', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    const stream = await openStream(`${server.url}/api/v1/events?from=end`);
    try {
      await waitFor(() => stream.text().includes('event: caught-up'), { what: 'the stream to say it is live' });
      vi.advanceTimersByTime(14_999);
      await store.append('workflow-keepalive', [{ id: crypto.randomUUID(), type: 'Marker', data: {}, metadata: {} }]);
      await waitFor(() => stream.text().includes('event: Marker'), { what: 'the event appended at 14.999 s' });
      vi.advanceTimersByTime(1);
      await waitFor(() => stream.text().includes(': keepalive'), { what: 'a keepalive at 15 s' });
      const text = stream.text();
      expect(text.indexOf('event: Marker')).toBeLessThan(text.indexOf(': keepalive'));
      vi.advanceTimersByTime(15_000);
      await waitFor(() => stream.text().split(': keepalive\n\n').length === 3, { what: 'a second keepalive at 30 s' });
    } finally {
      stream.close();
    }
  });

  it('takes another interval from the sse options', async () => {
    const quick = await startApiServer({ store, port: 0, sse: { heartbeatMs: 20 } });
    const stream = await openStream(`${quick.url}/api/v1/events`);
    try {
      await waitFor(() => stream.text().split(': keepalive\n\n').length >= 3, { what: 'two keepalives 20 ms apart' });
      expect(stream.text().startsWith(': connected\n\n')).toBe(true);
    } finally {
      stream.close();
      await quick.close();
    }
  });
});
