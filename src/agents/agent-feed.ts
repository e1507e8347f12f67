/**
 * A never-ending feed of `agent-` stream events. Start-up reads what the registry needs without
 * touching the rest of the log: the head's position, the directory of agents (agent-directory.ts)
 * and each listed agent's stream by name; then a `$all` subscription filtered by the `agent-` prefix
 * follows from that head. Events met twice across the switch are the registry's to pass over (it
 * folds by revision). A store with no directory yet is caught up the old way, by scanning the log
 * from the start, and the directory is created from what the scan found. Once caught up the
 * subscription survives failures by resubscribing from the last position it saw.
 */
import { StreamDeletedError, StreamNotFoundError } from '../store/errors.js';
import type { EventStore, Position, RecordedEvent, Subscription } from '../store/port.js';
import { createAgentDirectory, readAgentDirectory } from './agent-directory.js';
import { AGENT_STREAM_PREFIX } from './events.js';
import type { Logger } from './logging.js';

/** Pause before resubscribing after the subscription failed. */
const RESUBSCRIBE_DELAY_MS = 1000;
/** Agent streams read at once at start-up (each a round trip on EventStoreDB). */
const READS_IN_PARALLEL = 16;

export interface AgentFeed {
  /** Resolves once caught up with the log; rejects if start-up fails before that. */
  readonly caughtUp: Promise<void>;
  stop(): Promise<void>;
}

export function followAgentStreams(store: EventStore, onEvent: (event: RecordedEvent) => void, logger: Logger): AgentFeed {
  let position: Position | undefined;
  let subscription: Subscription | undefined;
  let stopped = false;
  let wakeUp = (): void => {};
  let signalCaughtUp = (): void => {};
  let failBeforeCaughtUp = (_error: Error): void => {};
  let isCaughtUp = false;
  const caughtUp = new Promise<void>((resolve, reject) => {
    signalCaughtUp = resolve;
    failBeforeCaughtUp = reject;
  });
  let listed: readonly string[] | undefined;
  /** Agent streams met while scanning a store without a directory. */
  const scanned = new Set<string>();

  const pause = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      wakeUp = done;
    });

  /** Every event of the listed agents' streams, by name. */
  const readListed = async (agentIds: readonly string[]): Promise<void> => {
    let next = 0;
    const reader = async (): Promise<void> => {
      while (next < agentIds.length && !stopped) {
        const stream = `${AGENT_STREAM_PREFIX}${agentIds[next++] as string}`;
        try {
          for await (const event of store.readStream(stream)) onEvent(event);
        } catch (error) {
          // Listed, but its first event was never written (a crash in between), or it was deleted.
          if (!(error instanceof StreamNotFoundError || error instanceof StreamDeletedError)) throw error;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(READS_IN_PARALLEL, agentIds.length) }, reader));
  };

  const start = async (): Promise<void> => {
    // The head first: whatever is appended after it comes through the subscription. The last event
    // outside system streams (`$…`, which EventStoreDB writes on its own and reads skip).
    let head: Position | undefined;
    for await (const event of store.readAll({ direction: 'backwards', fromPosition: 'end', maxCount: 1, filter: { streamNameRegex: '^[^$]' } })) head = event.position;
    listed = await readAgentDirectory(store);
    if (!listed) return;
    await readListed(listed);
    position = head;
  };

  const run = async (): Promise<void> => {
    try {
      await start();
    } catch (error) {
      failBeforeCaughtUp(error instanceof Error ? error : new Error(String(error)));
      return;
    }
    while (!stopped) {
      // No directory and nothing seen yet: from the start. Otherwise from the head or the last position seen.
      subscription = store.subscribeToAll({ fromPosition: position ?? 'start', filter: { streamNamePrefix: [AGENT_STREAM_PREFIX] } });
      try {
        for await (const message of subscription) {
          if (message.kind === 'event') {
            if (!listed && !isCaughtUp) scanned.add(message.event.stream.slice(AGENT_STREAM_PREFIX.length));
            onEvent(message.event);
            position = message.event.position;
          } else if (message.kind === 'checkpoint') {
            position = message.position;
          } else if (message.kind === 'caughtUp' && !isCaughtUp) {
            if (!listed) await createDirectory();
            isCaughtUp = true;
            signalCaughtUp();
          }
        }
        // Ended without an error: unsubscribed or the store closed.
        if (!isCaughtUp) failBeforeCaughtUp(new Error('Agent stream subscription ended before catching up'));
        return;
      } catch (error) {
        if (!isCaughtUp) {
          failBeforeCaughtUp(error instanceof Error ? error : new Error(String(error)));
          return;
        }
        logger.error({ err: error }, 'agent stream subscription failed; resubscribing');
        await pause(RESUBSCRIBE_DELAY_MS);
      }
    }
    if (!isCaughtUp) failBeforeCaughtUp(new Error('Agent feed stopped before catching up'));
  };

  /** After scanning a store without a directory: create it, so the next start reads by name. */
  const createDirectory = async (): Promise<void> => {
    try {
      await createAgentDirectory(store, [...scanned]);
    } catch (error) {
      // Harmless: the next start scans again.
      logger.warn({ err: error }, 'cannot create the agent directory; the next start scans the log again');
    }
  };

  const running = run();

  return {
    caughtUp,
    async stop() {
      stopped = true;
      wakeUp();
      await subscription?.unsubscribe();
      await running;
    },
  };
}
