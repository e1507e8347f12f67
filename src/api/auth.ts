/**
 * Who may talk to the API: loopback binds need nothing; any other bind needs a bearer token, and
 * with a token set every request but `/healthz` and the dashboard's static files (which hold no
 * data; the page sends the token on every API call) must carry it. Checked before routing, so a request
 * without the token learns nothing and changes nothing.
 */
import { timingSafeEqual } from 'node:crypto';
import { isLoopback } from '../shared/loopback.js';
import type { FastifyInstance } from 'fastify';
import { isDashboardAsset } from './dashboard.js';
import { sendProblem } from './problems.js';

export class ApiConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ApiConfigError';
  }
}

/** Throws ApiConfigError for a bind that would expose the API without a token. */
export function assertBindAllowed(host: string, token: string | undefined): void {
  if (token === undefined && !isLoopback(host)) {
    throw new ApiConfigError(
      `refusing to serve the API on ${host} without a token: a non-loopback bind needs --token-file or CADENZA_API_TOKEN (or bind to 127.0.0.1)`,
    );
  }
  if (token !== undefined && token.trim().length < 16) throw new ApiConfigError('the API token must be at least 16 characters');
}

/**
 * Whether an Authorization header carries the token. Constant-time for a header of the right length
 * (timingSafeEqual), so the time taken does not tell how much of a guess was right; the length is
 * not secret.
 */
export function bearerMatches(authorization: string | undefined, expected: Buffer): boolean {
  const given = Buffer.from(authorization ?? '');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

export function installBearerAuth(app: FastifyInstance, token: string): void {
  const expected = Buffer.from(`Bearer ${token}`);
  app.addHook('onRequest', async (request, reply) => {
    const path = request.url.split('?')[0]!;
    if (path === '/healthz' || isDashboardAsset(path)) return;
    if (bearerMatches(request.headers.authorization, expected)) return;
    void reply.header('www-authenticate', 'Bearer realm="cadenza"');
    return sendProblem(reply, 401, request.headers.authorization ? 'The bearer token is wrong' : 'This API needs a bearer token (Authorization: Bearer <token>)');
  });
}
