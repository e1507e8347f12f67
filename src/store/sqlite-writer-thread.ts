/**
 * The writer thread of a file store: its own connection to the file, running each batch of write
 * requests it is sent in one transaction (group commit; batches that arrived while it was busy go
 * into one transaction together) and answering with every request's outcome. Inserting rows and waiting for the WAL fsync happen here, on another core, while the
 * engine's thread goes on deciding. Started by GroupCommitWriter (sqlite-writer.ts).
 */
import { parentPort, receiveMessageOnPort, workerData } from 'node:worker_threads';
import { batchRunner } from './sqlite-batch-runner.js';
import { prepareStoreStatements } from './sqlite-rows.js';
import { openDatabase } from './sqlite-schema.js';
import { OUTCOME_SLOTS, unpackRequests, type PackedRequests } from './sqlite-write-requests.js';
import type { FromWriter, ToWriter, WriterSettings } from './sqlite-writer.js';

const port = parentPort;
if (!port) throw new Error('sqlite-writer-thread runs only as a worker thread');
const settings = workerData as WriterSettings;
const db = openDatabase(settings.path, { durability: settings.durability, busyTimeoutMs: settings.busyTimeoutMs });
const runBatch = batchRunner(db, prepareStoreStatements(db));

port.on('message', (first: ToWriter) => {
  // Every batch already waiting joins this one's transaction: when commits (their fsyncs) are what
  // the engine waits for, batches pile up here and are committed together, one fsync for all.
  const batches: PackedRequests[] = [];
  let closing = false;
  for (let message: ToWriter | undefined = first; message; message = receiveMessageOnPort(port)?.message as ToWriter | undefined) {
    if (message.kind === 'close') {
      closing = true;
      break;
    }
    batches.push(message.requests);
  }
  if (batches.length === 1) port.postMessage(runBatch(unpackRequests(batches[0] as PackedRequests)) satisfies FromWriter);
  else if (batches.length > 1) for (const reply of runTogether(batches)) port.postMessage(reply satisfies FromWriter);
  if (closing) {
    db.close();
    port.close();
  }
});

/** Several batches in one transaction, answered batch by batch (the sender expects one reply each, in order). */
function runTogether(batches: readonly PackedRequests[]): FromWriter[] {
  const requests = batches.map((packed) => unpackRequests(packed));
  const outcome = runBatch(requests.flat());
  if (outcome.kind !== 'committed') return requests.map(() => outcome);
  const replies: FromWriter[] = [];
  let at = 0;
  for (const batch of requests) {
    const slots = batch.length * OUTCOME_SLOTS;
    const outcomes = outcome.outcomes.slice(at, at + slots);
    replies.push(replies.length === 0 ? { kind: 'committed', outcomes } : { kind: 'committed', outcomes, joined: true });
    at += slots;
  }
  return replies;
}
