/**
 * BatchAppend deadlines as EventStoreDB enforces them (Streams.BatchAppend.cs): each append's options
 * carry a deadline; the time it allows is capped by the server's write timeout. An append whose
 * deadline has already passed is answered Timeout at once; one still waiting for its final request
 * when the time runs out is answered Timeout and forgotten (its later requests are dropped). Once
 * the final request is in, the write goes ahead: the deadline covers receiving the append.
 *
 * The 6.x client sends the deadline as an absolute Timestamp (`deadline`, field 6; the server's
 * `deadline_21_10_0`). Newer clients send a Duration (field 7) only when the server advertises the
 * `deadline_duration` feature, which this server does not: its message classes have no such field.
 */
import { status as grpcStatus } from '@grpc/grpc-js';
import { AnyPb, sharedPb, statusPb } from './proto.js';

/** EventStoreDB's default WriteTimeoutMs. */
export const DEFAULT_WRITE_TIMEOUT_MS = 2_000;

/**
 * Milliseconds this append may take to arrive: min(deadline - now, write timeout); 0 or less means
 * it is already late. `deadlineMs`: the append's deadline in milliseconds since the epoch, if it has one.
 */
export function appendTimeoutMs(deadlineMs: number | undefined, writeTimeoutMs: number, now: number): number {
  return Math.min(deadlineMs === undefined ? Number.POSITIVE_INFINITY : deadlineMs - now, writeTimeoutMs);
}

/** The Status EventStoreDB answers a late append with; the 6.x client turns it into DeadlineExceededError. */
export function timeoutStatus(): InstanceType<typeof statusPb.Status> {
  const any = new AnyPb();
  any.pack(new sharedPb.Timeout().serializeBinary(), 'event_store.client.Timeout');
  const result = new statusPb.Status();
  result.setCode(Number(grpcStatus.DEADLINE_EXCEEDED));
  result.setMessage('Timeout');
  result.setDetails(any);
  return result;
}
