/**
 * Live events over a real socket: the SSE stream carries workflow events with their store position
 * as id; a client that reconnects with Last-Event-ID gets exactly the events after it (none missed,
 * none twice); `?workflowId=` narrows it to one workflow; a client that stops reading is dropped.
 */
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApiServer, type ApiServer } from '../../src/api/server.js';
import { openStore } from '../../src/store/open.js';
import type { EventStore } from '../../src/store/port.js';

let store: EventStore;
let server: ApiServer;
const dropped: (() => void)[] = [];

beforeAll(async () => {
  store = await openStore('memory:');
  server = await startApiServer({ store, port: 0, sse: { slowClientMs: 200, heartbeatMs: 60_000, onClientDropped: () => dropped.shift()?.() } });
});

afterAll(async () => {
  await server?.close();
  await store?.close();
});

let counter = 0;
async function append(workflowId: string, count: number, size = 10): Promise<void> {
  const events = Array.from({ length: count }, () => ({ id: crypto.randomUUID(), type: 'Noted', data: { n: counter++, pad: 'x'.repeat(size) }, metadata: {} }));
  await store.append(`workflow-${workflowId}`, events);
}

interface Frame {
  readonly id?: string;
  readonly event?: string;
  readonly data?: { stream: string; type: string; data: { n: number } };
}

/** Reads frames until `want` of them carry an id (or the deadline passes), then disconnects. `onCaughtUp`: when the stream says it is live. */
async function readFrames(url: string, want: number, headers: Record<string, string> = {}, onCaughtUp?: () => Promise<void>): Promise<Frame[]> {
  const controller = new AbortController();
  const deadline = setTimeout(() => controller.abort(new Error(`fewer than ${want} SSE events from ${url} within 10 s`)), 10_000);
  const response = await fetch(url, { headers, signal: controller.signal });
  expect(response.headers.get('content-type')).toContain('text/event-stream');
  const frames: Frame[] = [];
  const decoder = new TextDecoder();
  let buffer = '';
  try {
    for await (const chunk of response.body!) {
      buffer += decoder.decode(chunk as Uint8Array, { stream: true });
      let end: number;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const frame = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const fields = Object.fromEntries(frame.split('\n').filter((l) => !l.startsWith(':')).map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 2)]));
        if (fields.event === 'caught-up') await onCaughtUp?.();
        if (fields.id === undefined) continue;
        frames.push({ id: fields.id, event: fields.event, data: JSON.parse(fields.data!) as Frame['data'] });
        if (frames.length === want) return frames;
      }
    }
    return frames;
  } finally {
    clearTimeout(deadline);
    controller.abort();
  }
}

describe('SSE /api/v1/events', () => {
  it('streams workflow events and resumes after Last-Event-ID with none missed and none twice', async () => {
    await append('a', 3);
    await store.append('agent-x', [{ id: crypto.randomUUID(), type: 'Noted', data: {}, metadata: {} }]);
    await append('b', 2);
    const first = await readFrames(`${server.url}/api/v1/events?from=start`, 3);
    expect(first.map((f) => f.data!.data.n)).toEqual([0, 1, 2]);
    expect(first.every((f) => f.data!.stream === 'workflow-a' && f.event === 'Noted')).toBe(true);

    // Disconnected after the third; more is written meanwhile.
    await append('a', 2);
    const resumed = await readFrames(`${server.url}/api/v1/events`, 4, { 'last-event-id': first[2]!.id! });
    expect(resumed.map((f) => f.data!.data.n)).toEqual([3, 4, 5, 6]);
    expect(resumed.map((f) => f.data!.stream)).toEqual(['workflow-b', 'workflow-b', 'workflow-a', 'workflow-a']);
  });

  it('follows one workflow with ?workflowId= and delivers live events', async () => {
    // Live: written once the stream is live; the other streams (including workflow-live-2) are left out.
    const frames = await readFrames(`${server.url}/api/v1/events?workflowId=live`, 2, {}, async () => {
      await append('live-2', 1);
      await append('other', 1);
      await append('live', 2);
    });
    expect(frames.map((f) => f.data!.stream)).toEqual(['workflow-live', 'workflow-live']);
  });

  it('rejects a Last-Event-ID that is not a position, naming the header', async () => {
    const response = await fetch(`${server.url}/api/v1/events`, { headers: { 'last-event-id': 'yesterday' } });
    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toContain('application/problem+json');
    expect(((await response.json()) as { detail: string }).detail).toContain('headers.last-event-id');
  });

  it('drops a client that stops reading instead of buffering for it', async () => {
    const { port } = new URL(server.url);
    const socket = connect(Number(port), '127.0.0.1');
    socket.write(`GET /api/v1/events?workflowId=flood HTTP/1.1\r\nHost: localhost\r\n\r\n`);
    await new Promise((resolve) => socket.once('data', resolve));
    socket.pause();
    const droppedNow = new Promise<void>((resolve) => dropped.push(resolve));
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    // Far more than the socket buffers on both sides hold.
    for (let i = 0; i < 40; i++) await append('flood', 10, 64 * 1024);
    let timer: NodeJS.Timeout | undefined;
    const deadline = (what: string) => new Promise<never>((_resolve, reject) => (timer = setTimeout(() => reject(new Error(`${what} within 10 s`)), 10_000)));
    await Promise.race([droppedNow, deadline('the server did not drop the client that stopped reading')]);
    clearTimeout(timer);
    let received = 0;
    socket.on('data', (chunk: Buffer) => (received += chunk.length));
    socket.resume(); // What the buffers held arrives, then the connection ends: nothing more was queued for it.
    await Promise.race([closed, deadline('the dropped connection did not close')]);
    clearTimeout(timer);
    expect(received).toBeLessThan(40 * 10 * 64 * 1024);
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    expect(metrics).toMatch(/^cadenza_sse_clients_dropped_total 1$/m);
  });
});
