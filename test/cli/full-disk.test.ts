/**
 * `cadenza run` / `demo` on a full disk: a real store on a tiny tmpfs, mounted in a private mount
 * namespace (gone with the process), filled up to the last 40 KB, which is room for SQLite to open
 * the store (its -shm file) and not to commit. The failure is reported once, with no unhandled stack
 * trace after it, and while the store stays unavailable the runtime's warnings are rate-limited.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WARNING_WINDOW_MS } from '../../src/saga/runtime/appender.js';
import { inPrivateMount } from './support.js';

const input = '{"symbol":"ACME","quantity":5,"account":"a-1"}';
let dir = '';

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'cadenza-full-disk-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A shell script: mount a 4 MB tmpfs on $DISK, run `prepare` there, fill the disk, then `cadenza ...` on it. */
function onFullDisk(prepare: string, command: string): string {
  return [
    'set -e',
    'mount -t tmpfs -o size=4m tmpfs "$DISK"',
    'store="sqlite:$DISK/store.db"',
    prepare,
    'dd if=/dev/zero of="$DISK/fill" bs=4k 2>/dev/null || true',
    'truncate -s -40K "$DISK/fill"',
    `exec "$NODE" "$CADENZA" --store "$store" ${command}`,
  ].join('\n');
}

/** Anything that is not the one report line nor a pino JSON line: a stack trace, Node's crash banner. */
function strayLines(stderr: string): string[] {
  return stderr.split('\n').filter((line) => line !== '' && !line.startsWith('cadenza: ') && !line.startsWith('{'));
}

describe('cadenza on a full disk', () => {
  it('run reports the failure once, with no unhandled stack trace after it', async () => {
    const disk = mkdtempSync(join(dir, 'disk-'));
    const prepare = '"$NODE" "$CADENZA" --store "$store" store info >/dev/null';
    const result = await inPrivateMount(onFullDisk(prepare, `run trading-pipeline --input '${input}' --latency 0`), { env: { DISK: disk } });
    expect(result).toEqual({ code: 1, stdout: '', stderr: 'cadenza: The event store could not commit: database or disk is full\n' });
  }, 120_000);

  it('while the store stays unavailable, one warning per reason per window, counting the ones held back', async () => {
    const disk = mkdtempSync(join(dir, 'disk-'));
    // A first run records the agents; on the full disk 20 workflows then retry their starts together.
    const prepare = `"$NODE" "$CADENZA" --store "$store" run trading-pipeline --input '${input}' --latency 0 >/dev/null 2>&1`;
    const began = Date.now();
    const result = await inPrivateMount(onFullDisk(prepare, '-v demo -n 20 --latency 0'), { env: { DISK: disk } });
    const elapsedMs = Date.now() - began;

    expect(result.code).toBe(1);
    expect(result.stderr.split('\n').filter((line) => line.startsWith('cadenza: '))).toEqual(['cadenza: The event store could not commit: database or disk is full']);
    expect(strayLines(result.stderr)).toEqual([]);
    const warnings = result.stderr.split('\n').filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as { msg: string; err?: { message: string }; suppressed?: number })
      .filter((line) => line.msg === 'store unavailable; retrying the append');
    expect(warnings.length).toBeGreaterThan(0);
    // However long it ran, each reason was logged at most once per window (before: ~56 lines a second).
    const perReason = new Map<string, number>();
    for (const warning of warnings) perReason.set(warning.err?.message ?? '', (perReason.get(warning.err?.message ?? '') ?? 0) + 1);
    for (const [reason, lines] of perReason) expect(lines, reason).toBeLessThanOrEqual(Math.floor(elapsedMs / WARNING_WINDOW_MS) + 1);
    // The 20 workflows retried for half a minute: later lines say how many repeats they stand for.
    expect(warnings[0]?.suppressed).toBe(0);
    expect(warnings.slice(1).some((warning) => (warning.suppressed ?? 0) > 0)).toBe(true);
  }, 180_000);
});
