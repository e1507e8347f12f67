/**
 * The Projections service through the real client: user-defined projections are refused with a
 * status the client raises as an error that says why, on unary and streaming methods alike.
 */
import { UnknownError } from '@eventstore/db-client';
import { status } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { embeddedWithClient } from './support.js';

describe('embedded EventStoreDB server: projections', () => {
  const served = embeddedWithClient();

  it('refuses user-defined projections with FAILED_PRECONDITION and a message naming what is served instead', async () => {
    const attempts = [
      () => served.client.createProjection('orders', 'fromAll().when({})'),
      () => served.client.getProjectionStatus('$by_category'),
      () => served.client.enableProjection('orders'),
      () => served.client.getProjectionState('orders'),
      // Statistics is server-streaming on the wire.
      () => served.client.listProjections(),
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
    const error = await served.client.enableProjection('$by_category').then(() => expect.fail('expected a refusal'), (caught: unknown) => caught);
    expect((error as UnknownError).code).toBe(status.FAILED_PRECONDITION);
    expect((error as UnknownError).message).toMatch(/--system-projections/);
  });
});
