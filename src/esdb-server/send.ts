/** Writing to a server stream with backpressure, and ending it with an error status. */
import type { ServerWritableStream } from '@grpc/grpc-js';
import type { RpcError } from './errors.js';

/** Messages buffered per call before a writer waits for the client to catch up. */
const BUFFERED_MESSAGES = 512;

/** What ending a call needs: any server stream that writes (server streaming or bidirectional). */
type ServerCall = Pick<ServerWritableStream<unknown, unknown>, 'cancelled' | 'destroyed' | 'writableEnded' | 'emit'>;

export function isOpen(call: ServerCall): boolean {
  return !call.cancelled && !call.destroyed && !call.writableEnded;
}

/** Resolves once the message is handed to gRPC and the stream can take more; false if the call is gone. */
export function send<T>(call: ServerWritableStream<unknown, T>, message: T): Promise<boolean> {
  if (!isOpen(call)) return Promise.resolve(false);
  // grpc-js's object-mode high-water mark is 16 messages; waiting for 'drain' that often costs an
  // event-loop turn every 16 events, so the server lets a larger buffer build before it waits.
  if (call.write(message) || call.writableLength < BUFFERED_MESSAGES) return Promise.resolve(true);
  return new Promise((resolve) => {
    const settle = (open: boolean) => {
      call.off('drain', onDrain);
      call.off('cancelled', onGone);
      call.off('close', onGone);
      resolve(open);
    };
    const onDrain = () => settle(true);
    const onGone = () => settle(false);
    call.on('drain', onDrain);
    call.on('cancelled', onGone);
    call.on('close', onGone);
  });
}

export function fail(call: ServerCall, error: RpcError): void {
  if (!isOpen(call)) return;
  // grpc-js turns an 'error' on a server stream into the call's status (code, details, trailers).
  call.emit('error', error);
}
