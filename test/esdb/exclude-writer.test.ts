/**
 * Our writer headers (docs/esdb-compatibility.md, "Writer headers"): appends through the adapter
 * with a `writer` are remembered by the embedded server, and a `$all` subscription with
 * `excludeWriter` is not sent them, while its checkpoints still move past them. Real client, real
 * gRPC; the official client, which sends neither header, sees everything as before.
 */
import { EventStoreDBClient, jsonEvent, START, streamNameFilter, type Position as ClientPosition } from '@eventstore/db-client';
import streamsGrpc from '@eventstore/db-client/generated/streams_grpc_pb.js';
import { credentials as grpcCredentials, Metadata } from '@grpc/grpc-js';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../src/store/errors.js';
import { openEsdbStore } from '../../src/store/esdb.js';
import { openServedStore, openStore } from '../../src/store/open.js';
import type { EventStore, Position, SubscribeToAllOptions } from '../../src/store/port.js';
import { sharedPb, streamsPb } from '../../src/esdb-server/proto.js';
import { RecentWriters } from '../../src/esdb-server/writers.js';
import { startEmbedded, type Embedded } from './support.js';

const event = (type: string) => ({ id: randomUUID(), type, data: { type } });

interface Seen {
  readonly types: string[];
  readonly checkpoints: Position[];
}

/** Messages of a subscription up to the event of type `until`. */
async function collect(store: EventStore, options: SubscribeToAllOptions, until: string, onLive?: () => Promise<void>): Promise<Seen> {
  const seen: Seen = { types: [], checkpoints: [] };
  const subscription = store.subscribeToAll(options);
  try {
    for await (const message of subscription) {
      if (message.kind === 'caughtUp') await onLive?.();
      if (message.kind === 'checkpoint') seen.checkpoints.push(message.position);
      if (message.kind !== 'event') continue;
      seen.types.push(message.event.type);
      if (message.event.type === until) break;
    }
  } finally {
    await subscription.unsubscribe();
  }
  return seen;
}

describe('writer headers on the embedded server', () => {
  let embedded: Embedded;
  let adapter: EventStore;
  let other: EventStore;
  let official: EventStoreDBClient;

  beforeAll(async () => {
    embedded = await startEmbedded();
    adapter = await openEsdbStore(embedded.connectionString);
    other = await openEsdbStore(embedded.connectionString);
    official = EventStoreDBClient.connectionString(embedded.connectionString);
  });
  afterAll(async () => {
    await adapter.close();
    await other.close();
    await official.dispose();
    await embedded.stop();
  });

  /**
   * One prefix per case: writer `a` twice on one stream (one run of revisions), writer `b` on the
   * same adapter instance (its own BatchAppend call), another adapter's writer `c`, an append
   * without a writer, the official client's append, `a` again, then a marker without a writer.
   */
  async function appendMix(prefix: string): Promise<{ lastOfA: Position; marker: Position }> {
    await adapter.append(`${prefix}-1`, [event('A1'), event('A2'), event('A3')], { writer: 'a' });
    await adapter.append(`${prefix}-1`, [event('A4'), event('A5')], { writer: 'a', expectedRevision: 2n });
    await adapter.append(`${prefix}-2`, [event('B1')], { writer: 'b' });
    await other.append(`${prefix}-3`, [event('C1')], { writer: 'c' });
    await adapter.append(`${prefix}-4`, [event('Plain')]);
    await official.appendToStream(`${prefix}-5`, jsonEvent({ type: 'Official', data: {} }));
    const lastOfA = (await adapter.append(`${prefix}-6`, [event('A6'), event('A7'), event('A8')], { writer: 'a' })).position;
    const marker = (await adapter.append(`${prefix}-7`, [event('Marker')])).position;
    return { lastOfA, marker };
  }

  const headBefore = async (): Promise<Position> => {
    for await (const last of adapter.readAll({ direction: 'backwards', maxCount: 1 })) return last.position;
    throw new Error('empty log');
  };

  const everything = ['A1', 'A2', 'A3', 'A4', 'A5', 'B1', 'C1', 'Plain', 'Official', 'A6', 'A7', 'A8', 'Marker'];
  const withoutA = ['B1', 'C1', 'Plain', 'Official', 'Marker'];

  it('leaves the excluded writer\'s appends out of a catch-up subscription, and checkpoints move past them', async () => {
    await adapter.append(`start-${randomUUID()}`, [event('Before')]);
    const from = await headBefore();
    const prefix = `mix-${randomUUID().slice(0, 8)}`;
    const { lastOfA, marker } = await appendMix(prefix);
    const filter = { streamNamePrefix: [prefix] };

    const excluding = await collect(adapter, { fromPosition: from, filter, checkpointInterval: 2, excludeWriter: 'a' }, 'Marker');
    expect(excluding.types).toEqual(withoutA);
    // 13 events considered, a checkpoint every 2: the 12th is A8, left out, yet a checkpoint is there.
    expect(excluding.checkpoints.map((position) => position.commit)).toContain(lastOfA.commit);
    expect(excluding.checkpoints.every((position) => position.commit < marker.commit)).toBe(true);

    // Without the option, and excluding a writer that wrote nothing: everything, as before.
    expect((await collect(adapter, { fromPosition: from, filter, checkpointInterval: 2 }, 'Marker')).types).toEqual(everything);
    expect((await collect(adapter, { fromPosition: from, filter, checkpointInterval: 2, excludeWriter: 'nobody' }, 'Marker')).types).toEqual(everything);
    // Excluding `b` leaves out only its append, made on the same adapter instance as `a`'s.
    expect((await collect(other, { fromPosition: from, filter, excludeWriter: 'b' }, 'Marker')).types).toEqual(everything.filter((type) => type !== 'B1'));
  });

  it('leaves them out of a live subscription too', async () => {
    const prefix = `live-${randomUUID().slice(0, 8)}`;
    const seen = await collect(adapter, { fromPosition: 'end', filter: { streamNamePrefix: [prefix] }, excludeWriter: 'a' }, 'Marker', async () => {
      await appendMix(prefix);
    });
    expect(seen.types).toEqual(withoutA);
  });

  it('leaves out every one of the writer\'s appends under load, where the store\'s writer thread commits them before their answers are in', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cadenza-exclude-'));
    const served = await startEmbedded({}, await openServedStore(`sqlite:${join(dir, 'served.db')}?durability=normal`));
    const writer = await openEsdbStore(served.connectionString);
    const reader = await openEsdbStore(served.connectionString);
    try {
      const prefix = `load-${randomUUID().slice(0, 8)}`;
      const seen = await collect(reader, { fromPosition: 'end', filter: { streamNamePrefix: [prefix] }, excludeWriter: 'busy' }, 'Marker', async () => {
        // 40 streams appended to 10 times each, all at once: as the engine's decisions at 40 in flight.
        await Promise.all(Array.from({ length: 40 }, async (_, index) => {
          for (let revision = 0n; revision < 10n; revision++) {
            await writer.append(`${prefix}-${index}`, [event('Busy')], { writer: 'busy', expectedRevision: revision === 0n ? 'no_stream' : revision - 1n });
          }
        }));
        await writer.append(`${prefix}-marker`, [event('Marker')]);
      });
      expect(seen.types).toEqual(['Marker']);
    } finally {
      await writer.close();
      await reader.close();
      await served.stop();
      await served.store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);

  it('honours the writer header on the classic Append call too', async () => {
    const prefix = `append-${randomUUID().slice(0, 8)}`;
    const raw = new streamsGrpc.StreamsClient(embedded.server.address, grpcCredentials.createInsecure());
    try {
      const appendOne = (stream: string, type: string, writer?: string) => new Promise<void>((resolve, reject) => {
        const metadata = new Metadata();
        if (writer !== undefined) metadata.set('cadenza-writer', writer);
        const call = raw.append(metadata, (error) => (error ? reject(error) : resolve()));
        const options = new streamsPb.AppendReq.Options();
        const identifier = new sharedPb.StreamIdentifier();
        identifier.setStreamName(Buffer.from(stream));
        options.setStreamIdentifier(identifier);
        options.setAny(new sharedPb.Empty());
        const first = new streamsPb.AppendReq();
        first.setOptions(options);
        call.write(first);
        const proposed = new streamsPb.AppendReq.ProposedMessage();
        const id = new sharedPb.UUID();
        id.setString(randomUUID());
        proposed.setId(id);
        proposed.getMetadataMap().set('type', type).set('content-type', 'application/json');
        proposed.setData(Buffer.from('{}'));
        const second = new streamsPb.AppendReq();
        second.setProposedMessage(proposed);
        call.write(second);
        call.end();
      });
      await appendOne(`${prefix}-1`, 'ByA', 'a');
      await appendOne(`${prefix}-2`, 'Unnamed');
      await appendOne(`${prefix}-3`, 'Marker');
      const seen = await collect(adapter, { fromPosition: 'start', filter: { streamNamePrefix: [prefix] }, excludeWriter: 'a' }, 'Marker');
      expect(seen.types).toEqual(['Unnamed', 'Marker']);
    } finally {
      raw.close();
    }
  });

  it('the official client, sending no header, reads and subscribes as before', async () => {
    const prefix = `official-${randomUUID().slice(0, 8)}`;
    await appendMix(prefix);
    const types: string[] = [];
    const checkpoints: ClientPosition[] = [];
    const subscription = official.subscribeToAll({
      fromPosition: START,
      filter: streamNameFilter({ prefixes: [prefix], checkpointReached: (_subscription, position) => void checkpoints.push(position) }),
    });
    for await (const resolved of subscription) {
      types.push(resolved.event!.type);
      if (resolved.event!.type === 'Marker') break;
    }
    await subscription.unsubscribe();
    expect(types).toEqual(everything);
  });

  it('refuses a writer that cannot travel as a header, on the adapter and the embedded store alike', async () => {
    const memory = await openStore('memory:');
    try {
      for (const store of [adapter, memory]) {
        await expect(store.append('bad-writer', [event('X')], { writer: 'naïve' })).rejects.toThrow(InvalidArgumentError);
        await expect(store.append('bad-writer', [event('X')], { writer: '' })).rejects.toThrow(InvalidArgumentError);
        expect(() => store.subscribeToAll({ excludeWriter: 'x'.repeat(129) })).toThrow(InvalidArgumentError);
      }
      // The embedded store takes a valid writer and ignores it: its subscriber sees its own appends.
      await memory.append('good-writer', [event('Mine')], { writer: 'me' });
      const seen = await collect(memory, { filter: { streamNamePrefix: ['good-writer'] }, excludeWriter: 'me' }, 'Mine');
      expect(seen.types).toEqual(['Mine']);
    } finally {
      await memory.close();
    }
  });
});

describe('RecentWriters (the server\'s memory of who wrote what)', () => {
  it('keeps one run of revisions per stream and writer, and forgets the least recently appended streams first', () => {
    const writers = new RecentWriters(2);
    writers.record('a', 's1', 2n, 3);
    writers.record('a', 's1', 4n, 2);
    expect([0n, 1n, 2n, 3n, 4n].map((revision) => writers.wrote('a', 's1', revision))).toEqual([true, true, true, true, true]);
    expect(writers.wrote('a', 's1', 5n)).toBe(false);
    expect(writers.wrote('b', 's1', 3n)).toBe(false);
    // Another writer in between: only its run is remembered for the stream from then on.
    writers.record('b', 's1', 5n, 1);
    expect(writers.wrote('a', 's1', 4n)).toBe(false);
    expect(writers.wrote('b', 's1', 5n)).toBe(true);
    // A gap (someone unnamed appended revision 6): a new run, nothing guessed in between.
    writers.record('b', 's1', 8n, 1);
    expect(writers.wrote('b', 's1', 6n)).toBe(false);
    expect(writers.wrote('b', 's1', 8n)).toBe(true);
    writers.record('a', 's2', 0n, 1);
    writers.record('a', 's3', 0n, 1);
    expect(writers.size).toBe(2);
    expect(writers.wrote('b', 's1', 8n)).toBe(false);
    expect(writers.wrote('a', 's3', 0n)).toBe(true);
  });

  it('holds an event an append under way may have written until that append settles, and only that writer\'s', async () => {
    const writers = new RecentWriters();
    let answer!: () => void;
    const settled = new Promise<void>((resolve) => {
      answer = resolve;
    });
    writers.underWay('a', 's', 3n, 4n, settled);
    expect(writers.settling('a', 's', 2n)).toBeUndefined();
    expect(writers.settling('b', 's', 3n)).toBeUndefined();
    const held = writers.settling('a', 's', 4n);
    expect(held).toBeInstanceOf(Promise);
    writers.record('a', 's', 4n, 2);
    answer();
    await held;
    expect(writers.wrote('a', 's', 3n)).toBe(true);
    expect(writers.settling('a', 's', 4n)).toBeUndefined();
    // A refused append settles too: the held event is then sent.
    writers.underWay('a', 's', 5n, 5n, Promise.reject(new Error('wrong expected version')));
    await writers.settling('a', 's', 5n);
    expect(writers.wrote('a', 's', 5n)).toBe(false);
  });
});
