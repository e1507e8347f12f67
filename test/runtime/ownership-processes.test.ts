/**
 * Ownership across runtime processes (docs/scaling.md): three workers lease the partitions of one
 * store between them, one is SIGKILLed and one drained mid-run, and the survivor finishes every
 * workflow with no order placed twice and no step re-run after its success was stored. On the
 * embedded SQLite file (600 workflows), and smaller on the embedded EventStoreDB server through the
 * real client over gRPC.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, it } from 'vitest';
import { startEmbedded, type Embedded } from '../esdb/support.js';
import { expectOwnershipAcrossProcesses } from './process-support.js';

let dir = '';
let embedded: Embedded | undefined;
afterEach(async () => {
  await embedded?.stop();
  embedded = undefined;
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = '';
});

describe('workflows owned across runtime processes', () => {
  it('three runtimes on one SQLite file: 600 workflows end, one runtime killed and one drained midway', async () => {
    dir = mkdtempSync(join(tmpdir(), 'cadenza-own-'));
    await expectOwnershipAcrossProcesses(`sqlite:${join(dir, 'store.db')}?durability=normal`, dir, 600);
  }, 420_000);

  it('three runtimes on the embedded EventStoreDB server, through the real client', async () => {
    dir = mkdtempSync(join(tmpdir(), 'cadenza-own-esdb-'));
    embedded = await startEmbedded();
    await expectOwnershipAcrossProcesses(embedded.connectionString, dir, 90);
  }, 420_000);
});
