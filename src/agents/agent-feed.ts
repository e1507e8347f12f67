/**
 * A never-ending feed of `agent-` stream events: a `$all` subscription filtered by stream prefix
 * that, once caught up, survives failures by resubscribing from the last position it saw.
 */
import type { EventStore, Position, RecordedEvent, Subscription } from '../store/port.js';
import { AGENT_STREAM_PREFIX } from './events.js';
import type { Logger } from './logging.js';

/** Pause before resubscribing after the subscription failed. */
const RESUBSCRIBE_DELAY_MS = 1000;

export interface AgentFeed {
  /** Resolves once caught up with the log; rejects if the first subscription fails before that. */
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

  const pause = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      wakeUp = done;
    });

  const run = async (): Promise<void> => {
    while (!stopped) {
      subscription = store.subscribeToAll({ fromPosition: position ?? 'start', filter: { streamNamePrefix: [AGENT_STREAM_PREFIX] } });
      try {
        for await (const message of subscription) {
          if (message.kind === 'event') {
            onEvent(message.event);
            position = message.event.position;
          } else if (message.kind === 'checkpoint') {
            position = message.position;
          } else if (message.kind === 'caughtUp' && !isCaughtUp) {
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
