/**
 * The Projections service through the real client: user-defined projections are refused with a
 * status the client raises as an error that says why, on unary and streaming methods alike.
 */
import { EventStoreDBClient, UnknownError } from '@eventstore/db-client';
import { status } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbedded, type Embedded } from './support.js';

describe('embedded EventStoreDB server: projections', () => {
  let embedded: Embedded;
  let client: EventStoreDBClient;
  beforeAll(async () => {
    embedded = await startEmbedded();
    client = EventStoreDBClient.connectionString(embedded.connectionString);
  });
  afterAll(async () => {
    await client.dispose();
    await embedded.stop();
  });

  it('refuses user-defined projections with FAILED_PRECONDITION and a message naming what is served instead', async () => {
    const attempts = [
      () => client.createProjection('orders', 'fromAll().when({})'),
      () => client.getProjectionStatus('$by_category'),
      () => client.enableProjection('orders'),
      () => client.getProjectionState('orders'),
      // Statistics is server-streaming on the wire.
      () => client.listProjections(),
    ];
    for (const attempt of attempts) {
      const error = await attempt().then(() => expect.fail('expected a refusal'), (caught: unknown) => caught);
      expect(error).toBeInstanceOf(UnknownError);
      expect((error as UnknownError).code).toBe(status.FAILED_PRECONDITION);
      expect((error as UnknownError).message).toMatch(/User-defined projections are not supported by this server/);
      expect((error as UnknownError).message).toMatch(/\$by_category/);
    }
  });

  it('refuses to enable a system projection while they are not running, saying how to run them', async () => {
    const error = await client.enableProjection('$by_category').then(() => expect.fail('expected a refusal'), (caught: unknown) => caught);
    expect((error as UnknownError).code).toBe(status.FAILED_PRECONDITION);
    expect((error as UnknownError).message).toMatch(/--system-projections/);
  });
});
