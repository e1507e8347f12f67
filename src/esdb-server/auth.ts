/**
 * Optional basic authentication: with a username and password configured, a call without a matching
 * `authorization: Basic …` header is refused with access-denied, as EventStoreDB refuses an
 * unauthorised user (RpcExceptions.AccessDenied).
 */
import { timingSafeEqual } from 'node:crypto';
import type { Metadata } from '@grpc/grpc-js';

export interface Credentials {
  readonly username: string;
  readonly password: string;
}

export type Authorizer = (metadata: Metadata) => boolean;

function sameText(a: string, b: string): boolean {
  const left = Buffer.from(a, 'utf8');
  const right = Buffer.from(b, 'utf8');
  return left.length === right.length && timingSafeEqual(left, right);
}

/** The username and password of a call's `authorization: Basic …` header, if it has one. */
export function basicCredentials(metadata: Metadata): Credentials | undefined {
  const header = metadata.get('authorization')[0];
  if (typeof header !== 'string' || !header.startsWith('Basic ')) return undefined;
  const decoded = Buffer.from(header.slice('Basic '.length).trim(), 'base64').toString('utf8');
  const separator = decoded.indexOf(':');
  if (separator < 0) return undefined;
  return { username: decoded.slice(0, separator), password: decoded.slice(separator + 1) };
}

export function createAuthorizer(credentials: Credentials | undefined): Authorizer {
  if (!credentials) return () => true;
  return (metadata) => {
    const given = basicCredentials(metadata);
    if (!given) return false;
    // Compare both parts even when the first differs: no early exit to time.
    const userMatches = sameText(given.username, credentials.username);
    const passwordMatches = sameText(given.password, credentials.password);
    return userMatches && passwordMatches;
  };
}
