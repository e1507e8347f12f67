import { pino, type Logger } from 'pino';

export type { Logger };

/** Library code logs nothing unless the application hands it a logger. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
