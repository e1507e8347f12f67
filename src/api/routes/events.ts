/**
 * Live updates as Server-Sent Events: every workflow event (or one workflow's) as it is stored, with
 * its store position as the SSE id. A client that reconnects sends `Last-Event-ID` and the stream
 * resumes right after that position, from the log, so it misses nothing. A client that does not
 * read is dropped once the socket's buffer is full and stays full: nothing is queued for it beyond
 * what the socket holds, and the subscription waits on it meanwhile (pull, not push).
 */
import { once } from 'node:events';
import type { ServerResponse } from 'node:http';
import { z } from 'zod';
import { WORKFLOW_STREAM_PREFIX, workflowIdOf, workflowStream } from '../../saga/stream/index.js';
import type { Position, RecordedEvent } from '../../store/port.js';
import { API_PREFIX, type ApiApp, type ApiContext } from '../app.js';
import { jsonText, parsePosition, positionText } from '../json.js';
import { BadRequestError } from '../problems.js';
import { problemResponses } from './responses.js';
import { workflowId as workflowIdSchema } from './schemas.js';

export interface SseOptions {
  /** How long a client may leave a full socket buffer unread before it is dropped. Default 10 s. */
  readonly slowClientMs?: number;
  /** Comment line interval that keeps proxies from closing an idle stream. Default 15 s. */
  readonly heartbeatMs?: number;
  /** Told each time a slow client is dropped (the server counts them in `/metrics`). */
  readonly onClientDropped?: () => void;
}

const eventsQuery = z.strictObject({
  workflowId: workflowIdSchema.optional().describe("only this workflow's events"),
  from: z.enum(['start', 'end']).default('end').describe('without Last-Event-ID: from the start of the log, or only new events'),
});

export function registerEventRoutes(app: ApiApp, context: ApiContext, options: SseOptions = {}): void {
  const slowClientMs = options.slowClientMs ?? 10_000;
  const heartbeatMs = options.heartbeatMs ?? 15_000;
  app.get(
    `${API_PREFIX}/events`,
    {
      schema: {
        tags: ['live'],
        summary: 'Workflow events as Server-Sent Events, resumable with Last-Event-ID (the store position)',
        querystring: eventsQuery,
        headers: z.looseObject({ 'last-event-id': z.string().optional() }),
        response: {
          200: {
            description: 'A stream of Server-Sent Events, one per workflow event, until the client goes',
            content: { 'text/event-stream': { schema: z.string().describe('`id: <position>`, `event: <type>`, `data: <JSON>` frames, blank-line separated (docs/api.md)') } },
          },
          ...problemResponses,
        },
      },
    },
    async (request, reply) => {
      const lastEventId = request.headers['last-event-id'];
      let from: 'start' | 'end' | Position = request.query.from;
      if (lastEventId !== undefined && lastEventId !== '') {
        const position = parsePosition(lastEventId);
        if (!position) throw new BadRequestError('headers.last-event-id', 'expected a store position "<commit>/<prepare>" as sent in an event id');
        from = position;
      }
      const { workflowId } = request.query;
      const onlyStream = workflowId === undefined ? undefined : workflowStream(workflowId);
      const subscription = context.store.subscribeToAll({
        fromPosition: from,
        filter: { streamNamePrefix: [onlyStream ?? WORKFLOW_STREAM_PREFIX] },
      });
      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive', 'x-accel-buffering': 'no' });
      res.write(': connected\n\n');
      const heartbeat = setInterval(() => res.write(': keepalive\n\n'), heartbeatMs);
      heartbeat.unref();
      const stop = () => {
        clearInterval(heartbeat);
        void subscription.unsubscribe();
      };
      res.on('close', stop);
      try {
        for await (const message of subscription) {
          if (res.destroyed) break;
          if (message.kind === 'caughtUp') res.write('event: caught-up\ndata: {}\n\n');
          if (message.kind !== 'event') continue;
          // A prefix filter also lets `workflow-42-fork...` through when following `workflow-42`.
          if (onlyStream !== undefined && message.event.stream !== onlyStream) continue;
          if (res.write(sseFrame(message.event))) continue;
          const outcome = await drained(res, slowClientMs);
          if (outcome === 'closed') break;
          if (outcome === 'timeout') {
            request.log.warn({ workflowId }, 'SSE client dropped: it stopped reading');
            res.destroy();
            options.onClientDropped?.();
            break;
          }
        }
      } catch (error) {
        request.log.error({ err: error }, 'SSE subscription failed');
        res.destroy();
      } finally {
        stop();
        if (!res.destroyed) res.end();
      }
    },
  );
}

function sseFrame(event: RecordedEvent): string {
  const data = {
    stream: event.stream,
    workflowId: workflowIdOf(event.stream) ?? null,
    revision: Number(event.revision),
    position: positionText(event.position),
    type: event.type,
    created: event.created.toISOString(),
    data: event.data,
  };
  return `id: ${positionText(event.position)}\nevent: ${event.type}\ndata: ${jsonText(data)}\n\n`;
}

/** Whether the socket drained within `ms`, closed (the client went away), or neither (the client stopped reading). */
async function drained(res: ServerResponse, ms: number): Promise<'drained' | 'closed' | 'timeout'> {
  if (res.destroyed) return 'closed';
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), ms);
  try {
    return await Promise.race([
      once(res, 'drain', { signal: abort.signal }).then(() => 'drained' as const),
      once(res, 'close', { signal: abort.signal }).then(() => 'closed' as const),
    ]);
  } catch {
    return 'timeout';
  } finally {
    clearTimeout(timer);
    abort.abort();
  }
}
