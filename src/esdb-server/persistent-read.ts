/**
 * PersistentSubscriptions.Read (bidirectional), per EventStoreDB's PersistentSubscriptions.Read.cs:
 * the first request carries the options (source, group, buffer size, UUID form); the answer starts
 * with a confirmation (`<source>::<group>`), then events with their retry counts; later requests ack
 * or nack event ids. A consumer whose call ends (the client left, or its process died) leaves the
 * group, and what it had not acked goes to the other consumers.
 */
import type { ServerDuplexStream, ServerWritableStream } from '@grpc/grpc-js';
import type { NackAction, PersistentSubscription } from '../store/persistent/port.js';
import { ALL_SOURCE } from '../store/persistent/port.js';
import { basicCredentials } from './auth.js';
import type { HandlerContext } from './context.js';
import { decodeStreamName, decodeUuid, encodeRecordedEvent } from './convert.js';
import { rpcErrors } from './errors.js';
import { toPersistentRpcError } from './persistent-errors.js';
import { persistentPb, type ReadReq, type ReadResp } from './persistent-proto.js';
import { fail, isOpen, send } from './send.js';

const NACK_ACTIONS: Record<number, NackAction> = { 0: 'retry', 1: 'park', 2: 'retry', 3: 'skip', 4: 'stop' };

type Call = ServerDuplexStream<ReadReq, ReadResp>;
/** send.ts speaks of server-streaming calls; a duplex call writes the same way. */
const writable = (call: Call) => call as unknown as ServerWritableStream<unknown, ReadResp>;

/** The event as the persistent service's message: the same fields as Streams' RecordedEvent, encoded by one owner. */
function persistentRecordedEvent(encoded: { serializeBinary(): Uint8Array }) {
  return persistentPb.ReadResp.ReadEvent.RecordedEvent.deserializeBinary(encoded.serializeBinary());
}

export function handlePersistentRead(context: HandlerContext) {
  return (call: Call): void => {
    if (!context.authorize(call.metadata)) {
      fail(writable(call), rpcErrors.accessDenied());
      return;
    }
    let consumer: PersistentSubscription | undefined;
    const stop = () => {
      void consumer?.unsubscribe();
    };
    const untrack = context.track(() => {
      stop();
      fail(writable(call), rpcErrors.unavailable('Server is shutting down'));
    });
    const finish = () => {
      untrack();
      stop();
    };
    call.on('cancelled', finish);
    call.on('close', finish);
    call.on('error', finish);
    call.on('end', () => {
      finish();
      call.end();
    });

    call.on('data', (request: ReadReq) => {
      try {
        if (!consumer) {
          const options = request.getOptions();
          if (!options) throw rpcErrors.invalidArgument('The first message of a persistent subscription must carry its options');
          const source = options.hasAll() ? ALL_SOURCE : decodeStreamName(options.getStreamIdentifier());
          const structured = options.getUuidOption()?.hasStructured() ?? false;
          const who = {
            name: String(call.metadata.get('connection-name')[0] ?? '<unknown>'),
            username: basicCredentials(call.metadata)?.username ?? '',
            from: call.getPeer(),
          };
          consumer = context.store.persistentSubscriptions.connect(source, options.getGroupName(), { bufferSize: options.getBufferSize(), ...who });
          void serve(call, consumer, `${source}::${options.getGroupName()}`, structured).finally(finish);
          return;
        }
        if (request.hasAck()) {
          void consumer.ack(...request.getAck()!.getIdsList().map((id) => decodeUuid(id)));
        } else if (request.hasNack()) {
          const nack = request.getNack()!;
          void consumer.nack(NACK_ACTIONS[nack.getAction()] ?? 'retry', nack.getReason(), ...nack.getIdsList().map((id) => decodeUuid(id)));
        }
      } catch (error) {
        fail(writable(call), toPersistentRpcError(error));
        finish();
      }
    });
  };
}

async function serve(call: Call, consumer: PersistentSubscription, subscriptionId: string, structured: boolean): Promise<void> {
  try {
    await consumer.joined();
    const confirmation = new persistentPb.ReadResp.SubscriptionConfirmation();
    confirmation.setSubscriptionId(subscriptionId);
    const response = new persistentPb.ReadResp();
    response.setSubscriptionConfirmation(confirmation);
    if (!(await send(writable(call), response))) return;
    for await (const { event, retryCount } of consumer) {
      const readEvent = new persistentPb.ReadResp.ReadEvent();
      // A resolved link: the target as `event`, the link as `link`, both at the link's position
      // (PersistentSubscriptions.Read.cs gives every part the original position).
      const position = (event.link ?? event).position;
      readEvent.setEvent(persistentRecordedEvent(encodeRecordedEvent(event.link ? { ...event, position } : event, structured)));
      if (event.link) readEvent.setLink(persistentRecordedEvent(encodeRecordedEvent(event.link, structured)));
      readEvent.setCommitPosition(position.commit.toString());
      readEvent.setRetryCount(retryCount);
      const message = new persistentPb.ReadResp();
      message.setEvent(readEvent);
      if (!(await send(writable(call), message))) return;
    }
  } catch (error) {
    if (isOpen(writable(call))) fail(writable(call), toPersistentRpcError(error));
  }
}
