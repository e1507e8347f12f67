/**
 * EventStoreDB-path benchmark (`npm run bench:esdb`): the embedded EventStoreDB-compatible server over
 * a durable sqlite temp file, in its own process as a database server would be, driven through the
 * real @eventstore/db-client; beside it the embedded store's own figures measured directly through
 * the port in the same run. The last line of output is one JSON object with every figure.
 *
 * The server process is this file run again with `--serve <sqlite file>`.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { sampleEvent } from './sample-event.js';
import { EventStoreDBClient, jsonEvent, START } from '@eventstore/db-client';
import { startEsdbServer } from '../../src/esdb-server/index.js';
import { openStore } from '../../src/store/open.js';
import type { EventData, EventStore } from '../../src/store/port.js';

type Result = { value: number; unit: string };
const results: Record<string, Result> = {};
const serving = process.argv.includes('--serve');
/** Temp files of the measuring process (the serving child gets its file as an argument). */
const directory = serving ? '' : mkdtempSync(join(tmpdir(), 'cadenza-bench-esdb-'));

const BATCHES = 200;
const BATCH_SIZE = 100;
const CONCURRENT_ROUNDS = 50;
const CONCURRENCY = 100;

function record(name: string, count: number, seconds: number): void {
  const value = Math.round(count / seconds);
  results[name] = { value, unit: 'events/s' };
  console.log(`${name.padEnd(30)} ${value.toLocaleString('en-US').padStart(10)} events/s  (${count} in ${seconds.toFixed(2)} s)`);
}


const asClientEvent = (event: EventData) => jsonEvent({ id: event.id, type: event.type, data: event.data as Record<string, unknown>, metadata: event.metadata });

async function timed(action: () => Promise<number>): Promise<[number, number]> {
  const started = performance.now();
  const count = await action();
  return [count, (performance.now() - started) / 1000];
}

/** Child mode: serve the given sqlite file until SIGTERM, after printing one JSON ready line. */
async function serve(file: string): Promise<void> {
  const store = await openStore(`sqlite:${file}`);
  const server = await startEsdbServer({ store, port: 0 });
  process.stdout.write(`${JSON.stringify({ address: server.address })}\n`);
  await new Promise((resolve) => process.once('SIGTERM', resolve));
  await server.close();
  await store.close();
}

async function startServerProcess(file: string) {
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--serve', file], { stdio: ['ignore', 'pipe', 'inherit'] });
  const [chunk] = (await once(child.stdout, 'data')) as [Buffer];
  const { address } = JSON.parse(chunk.toString().split('\n')[0] ?? '') as { address: string };
  return {
    address,
    stop: async () => {
      child.kill('SIGTERM');
      await once(child, 'exit');
    },
  };
}

async function throughClient(): Promise<void> {
  const server = await startServerProcess(join(directory, 'served.db'));
  const client = EventStoreDBClient.connectionString(`esdb://${server.address}?tls=false`);
  try {
    await client.appendToStream('warm-up', asClientEvent(sampleEvent(0)));
    record('esdb.append.batch100', ...(await timed(async () => {
      for (let batch = 0; batch < BATCHES; batch++) {
        await client.appendToStream('batched', Array.from({ length: BATCH_SIZE }, (_, index) => asClientEvent(sampleEvent(batch * BATCH_SIZE + index))));
      }
      return BATCHES * BATCH_SIZE;
    })));
    record('esdb.append.concurrent100', ...(await timed(async () => {
      for (let round = 0; round < CONCURRENT_ROUNDS; round++) {
        await Promise.all(Array.from({ length: CONCURRENCY }, (_, index) =>
          client.appendToStream(`concurrent-${index}`, asClientEvent(sampleEvent(round * CONCURRENCY + index)))));
      }
      return CONCURRENT_ROUNDS * CONCURRENCY;
    })));
    record('esdb.subscribe.catchup', ...(await timed(async () => {
      const subscription = client.subscribeToAll({ fromPosition: START });
      let count = 0;
      await new Promise<void>((resolve, reject) => {
        subscription.on('data', () => count++);
        subscription.on('caughtUp', () => resolve());
        subscription.on('error', reject);
      });
      await subscription.unsubscribe();
      return count;
    })));
  } finally {
    await client.dispose();
    await server.stop();
  }
}

async function directlyThroughThePort(): Promise<void> {
  const store: EventStore = await openStore(`sqlite:${join(directory, 'direct.db')}`);
  try {
    await store.append('warm-up', [sampleEvent(0)]);
    record('append.batch100', ...(await timed(async () => {
      for (let batch = 0; batch < BATCHES; batch++) {
        await store.append('batched', Array.from({ length: BATCH_SIZE }, (_, index) => sampleEvent(batch * BATCH_SIZE + index)));
      }
      return BATCHES * BATCH_SIZE;
    })));
    record('append.concurrent100', ...(await timed(async () => {
      for (let round = 0; round < CONCURRENT_ROUNDS; round++) {
        await Promise.all(Array.from({ length: CONCURRENCY }, (_, index) => store.append(`concurrent-${index}`, [sampleEvent(round * CONCURRENCY + index)])));
      }
      return CONCURRENT_ROUNDS * CONCURRENCY;
    })));
    record('subscribe.catchup', ...(await timed(async () => {
      const subscription = store.subscribeToAll({ fromPosition: 'start' });
      let count = 0;
      for await (const message of subscription) {
        if (message.kind === 'event') count++;
        else if (message.kind === 'caughtUp') break;
      }
      await subscription.unsubscribe();
      return count;
    })));
  } finally {
    await store.close();
  }
}

if (serving) {
  await serve(process.argv[process.argv.indexOf('--serve') + 1] ?? '');
} else {
  try {
    console.log(`EventStoreDB path: embedded server (own process) over durable sqlite, real client (node ${process.version})`);
    await throughClient();
    await directlyThroughThePort();
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
  console.log(JSON.stringify({ bench: 'esdb', results }));
}
