/**
 * The writer thread of a file store: its own connection to the file, running each batch of write
 * requests it is sent in one `BEGIN IMMEDIATE` transaction (group commit) and answering with every
 * request's outcome. Inserting rows and waiting for the WAL fsync happen here, on another core,
 * while the engine's thread goes on deciding. Started by {@link ThreadedWriter}; see
 * sqlite-writer.ts for the messages.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { StoreError } from './errors.js';
import { StreamHeads } from './sqlite-heads.js';
import { prepareStatements } from './sqlite-rows.js';
import { openDatabase } from './sqlite-schema.js';
import { packOutcome, refusalData, runWrite, unpackRequests, type PackedOutcomes, type WriteRequest } from './sqlite-write-requests.js';
import type { FromWriter, ToWriter, WriterSettings } from './sqlite-writer.js';

const port = parentPort;
if (!port) throw new Error('sqlite-writer-thread runs only as a worker thread');
const settings = workerData as WriterSettings;
const db = openDatabase(settings.path, { durability: settings.durability, busyTimeoutMs: settings.busyTimeoutMs });
const statements = prepareStatements(db);
const heads = new StreamHeads();
const context = { statements, heads };

const runBatch = db.transaction((requests: readonly WriteRequest[], outcomes: PackedOutcomes) => {
  // Holding the write lock: cached heads hold unless another connection committed.
  heads.begin(statements.dataVersion.get() as number);
  for (const request of requests) {
    try {
      packOutcome(outcomes, { ok: true, value: runWrite(context, request) });
    } catch (error) {
      // A refusal is thrown before the request writes anything: the rest of the batch goes on.
      if (!(error instanceof StoreError)) throw error;
      packOutcome(outcomes, { ok: false, refusal: refusalData(error) });
    }
  }
});

port.on('message', (message: ToWriter) => {
  if (message.kind === 'close') {
    db.close();
    port.close();
    return;
  }
  const outcomes: PackedOutcomes = [];
  let reply: FromWriter;
  try {
    runBatch.immediate(unpackRequests(message.requests), outcomes);
    reply = { kind: 'committed', outcomes };
  } catch (error) {
    // The transaction itself failed (lock timeout, disk full) and rolled back: nothing was written.
    heads.clear();
    reply = { kind: 'failed', message: (error as Error).message };
  }
  port.postMessage(reply);
});
