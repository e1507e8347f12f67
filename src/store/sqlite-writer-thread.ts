/**
 * The writer thread of a file store: its own connection to the file, running each batch of write
 * requests it is sent in one transaction (group commit) and answering with every request's
 * outcome. Inserting rows and waiting for the WAL fsync happen here, on another core, while the
 * engine's thread goes on deciding. Started by GroupCommitWriter (sqlite-writer.ts).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { batchRunner } from './sqlite-batch-runner.js';
import { prepareStoreStatements } from './sqlite-rows.js';
import { openDatabase } from './sqlite-schema.js';
import { unpackRequests } from './sqlite-write-requests.js';
import type { FromWriter, ToWriter, WriterSettings } from './sqlite-writer.js';

const port = parentPort;
if (!port) throw new Error('sqlite-writer-thread runs only as a worker thread');
const settings = workerData as WriterSettings;
const db = openDatabase(settings.path, { durability: settings.durability, busyTimeoutMs: settings.busyTimeoutMs });
const runBatch = batchRunner(db, prepareStoreStatements(db));

port.on('message', (message: ToWriter) => {
  if (message.kind === 'close') {
    db.close();
    port.close();
    return;
  }
  port.postMessage(runBatch(unpackRequests(message.requests)) satisfies FromWriter);
});
