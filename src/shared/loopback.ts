/**
 * Is a bind address loopback-only? What decides whether a server (the HTTP API, the embedded
 * EventStoreDB server) may run without credentials. `localhost`, 127.0.0.0/8, `::1` and the
 * IPv4-mapped `::ffff:127.x`, with or without IPv6 brackets.
 */
import { isIP } from 'node:net';

export function isLoopback(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '');
  if (bare === 'localhost') return true;
  if (isIP(bare) === 4) return bare.startsWith('127.');
  if (isIP(bare) === 6) return bare === '::1' || /^::ffff:127\./i.test(bare);
  return false;
}
