/**
 * How the API writes JSON: store positions as `"<commit>/<prepare>"` (the same text the CLI prints
 * and `Last-Event-ID` carries), other bigints as numbers when safe. One place, so every route and the
 * SSE stream agree.
 */
import type { Position } from '../store/port.js';

export function positionText(position: Position): string {
  return `${position.commit}/${position.prepare}`;
}

/** `"12/12"` or `"12"`; undefined for anything else. */
export function parsePosition(text: string): Position | undefined {
  const match = /^(\d{1,20})(?:\/(\d{1,20}))?$/.exec(text.trim());
  if (!match) return undefined;
  return { commit: BigInt(match[1]!), prepare: BigInt(match[2] ?? match[1]!) };
}

/** The replacer behind `jsonText`: also what the routes' response serializer writes with. */
export function jsonReplacer(_key: string, v: unknown): unknown {
  return typeof v === 'bigint' ? (v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v.toString()) : v;
}

export function jsonText(value: unknown): string {
  return JSON.stringify(value, jsonReplacer);
}
