/**
 * The backlog survives the process: a runtime process with one slot, its queued starts stored, is
 * SIGKILLed; a new process finds the queued workflows through the in-flight index (they are not
 * ended), resumes the admitted one, then admits the rest by priority. None is lost.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/open.js';
import { inFlightIndexStream, partitionIndexStream, readPartitionCheckpoints } from '../../src/saga/runtime/in-flight-index.js';
import { ALL_DEFINITIONS, DEFAULT_PARTITIONS } from '../../src/saga/runtime/partitions.js';
import { waitFor } from '../support/wait-for.js';
import { startFixture } from './process-support.js';
import { dataOf, historyOf } from './support.js';

const dirs: string[] = [];
const children: ChildProcess[] = [];
afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const fillers = Array.from({ length: 40 }, (_, i) => `f-${String(i).padStart(2, '0')}`);

describe('a runtime killed with workflows queued', () => {
  it('loses none: the next process admits them by priority after the one that held the slot', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cadenza-backlog-restart-'));
    dirs.push(dir);
    const storeUri = `sqlite:${join(dir, 'store.db')}`;
    const calls = join(dir, 'calls.log');
    writeFileSync(calls, '');
    const lines = () => readFileSync(calls, 'utf8').split('\n').filter(Boolean);

    const first = startFixture('backlog-worker.ts', storeUri, 'queue', calls);
    children.push(first.child);
    await waitFor(() => first.output().includes('queued') && lines().length === 1, { what: 'the first process to queue its starts and call the blocker\'s agent', timeoutMs: 60_000 });
    const store = await openStore(storeUri);
    try {
      // Queued workflows are unfinished: the in-flight index the next process starts from names them.
      const all = ['blocker', 'p-low', 'p-top', 'p-zero', 'p-mid', 'p-high', ...fillers];
      await waitFor(async () => {
        // One checkpoint per partition of the table a runtime hosting every definition leases.
        const partitions = Array.from({ length: DEFAULT_PARTITIONS }, (_, partition) => partitionIndexStream(ALL_DEFINITIONS, partition));
        const checkpoint = await readPartitionCheckpoints(store, partitions, inFlightIndexStream(undefined));
        return all.every((id) => checkpoint?.workflows.includes(id));
      }, { what: 'an in-flight index checkpoint naming the blocker and the five queued workflows', timeoutMs: 30_000 });
      first.child.kill('SIGKILL');
      await first.exited;

      for (const id of ['p-low', 'p-top', 'p-zero', 'p-mid', 'p-high']) {
        expect((await historyOf(store, id)).map((e) => [e.type, dataOf(e).queued]), id).toEqual([['WorkflowStarted', true]]);
      }
    } finally {
      await store.close();
    }

    const second = startFixture('backlog-worker.ts', storeUri, 'drain', calls);
    children.push(second.child);
    await waitFor(() => second.output().includes('done'), { what: `the second process to end every workflow (output: ${second.output()})`, timeoutMs: 60_000 });
    expect(await second.exited).toBe(0);
    expect(second.output()).toContain(`done ${JSON.stringify(Array(46).fill('completed'))}`);
    // The blocker's call re-sent (it held the slot), then the queued ones, highest priority first, then the oldest.
    expect(lines()).toEqual(['blocker', 'blocker', 'p-top', 'p-high', 'p-mid', 'p-zero', 'p-low', ...fillers]);
  }, 180_000);
});
