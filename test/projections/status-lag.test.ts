/**
 * docs/cli.md, `projections status`: "lag (events of its streams after the checkpoint; `+` when more
 * than 100,000)". A store of exactly 100,000 events no projection has read shows that lag as it is;
 * one event more, and it shows the cap with a `+` (`lagCapped` in --json).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SqliteEventStore } from '../../src/store/sqlite-store.js';
import { cadenzaInProcess } from '../cli/in-process.js';

const dir = mkdtempSync(join(tmpdir(), 'cadenza-lag-cap-'));
const path = join(dir, 'cadenza.db');
const storeUri = `sqlite:${path}`;
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface StatusRow {
  readonly projection: string;
  readonly lag: number;
  readonly lagCapped: boolean;
}

async function table(): Promise<string[]> {
  const text = await cadenzaInProcess(storeUri, 'projections', 'status');
  expect(text.code, text.stderr).toBe(0);
  return text.stdout.trim().split('\n');
}

async function rows(): Promise<StatusRow[]> {
  const json = await cadenzaInProcess(storeUri, 'projections', 'status', '--json');
  expect(json.code, json.stderr).toBe(0);
  return (JSON.parse(json.stdout) as { projections: StatusRow[] }).projections;
}

/** The table's lag column for a projection (columns: projection, applied, lag, poison, checkpoint). */
function lagShown(table: readonly string[], projection: string): string | undefined {
  return table.find((line) => line.startsWith(`${projection} `))?.trim().split(/\s+/)[2];
}

describe('cadenza projections status past 100,000 events', () => {
  it('shows a lag of exactly 100,000 as it is, and one event more as "100000+"', async () => {
    // Streams that are no workflow's: only the audit index (every non-system stream) lags behind.
    const store = SqliteEventStore.open(path, { writer: 'inline' });
    try {
      for (let i = 0; i < 100; i++) {
        await store.append(`noise-${i}`, Array.from({ length: 1000 }, (_, j) => ({ id: crypto.randomUUID(), type: 'Noise', data: { j } })));
      }
      const atCap = await table();
      expect(lagShown(atCap, 'audit-index')).toBe('100000');
      expect(lagShown(atCap, 'workflow-status')).toBe('0');

      await store.append('noise-last', [{ id: crypto.randomUUID(), type: 'Noise', data: {} }]);
      const past = await table();
      expect(lagShown(past, 'audit-index')).toBe('100000+');
      expect(lagShown(past, 'workflow-status')).toBe('0');
      expect((await rows()).find((row) => row.projection === 'audit-index')).toMatchObject({ lag: 100_000, lagCapped: true });
    } finally {
      await store.close();
    }
  }, 120_000);
});
