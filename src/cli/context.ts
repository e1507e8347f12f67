/**
 * What every CLI command shares: the global options, opening the store, output in human or
 * `--json` form, and the logger. Commands print exactly one JSON document on stdout with `--json`;
 * progress bars and logs always go to stderr, so stdout stays machine-readable.
 */
import pino, { type Logger } from 'pino';
import type { EventStore } from '../store/port.js';

export interface GlobalOptions {
  /** Store URI (`sqlite:<path>`, `memory:`, `esdb://...`); default from CADENZA_STORE or ./.cadenza. */
  store?: string;
  json?: boolean;
  verbose?: boolean;
}

/** An error the CLI reports as one line on stderr with a specific exit code. */
export class CliError extends Error {
  constructor(message: string, readonly exitCode: number = ExitCode.Failure) {
    super(message);
    this.name = 'CliError';
  }
}

/** Documented in docs/cli.md. */
export const ExitCode = {
  Ok: 0,
  /** A command failed: the reason is the one line on stderr. */
  Failure: 1,
  /** Bad usage or invalid input (unknown option, malformed JSON, input that fails validation). */
  Usage: 2,
  /** The thing asked about does not exist (unknown workflow, unknown saga). */
  NotFound: 3,
  /** The workflow ended, but not completed (compensated, failed, cancelled). Used by `run`. */
  WorkflowNotCompleted: 4,
} as const;

export function createLogger(options: GlobalOptions): Logger {
  // Quiet by default in the CLI; `--verbose` gives one structured line per transition on stderr.
  return pino({ level: options.verbose ? 'debug' : 'silent', base: undefined }, pino.destination(2));
}

export async function withStore<T>(options: GlobalOptions, use: (store: EventStore) => Promise<T>): Promise<T> {
  const { openStore } = await import('../store/open.js');
  const store = await openStore(options.store);
  try {
    await assertReachable(store, options.store);
    return await use(store);
  } finally {
    await store.close();
  }
}

/**
 * One read before any work: a store that cannot be reached fails now, with its reason, instead of
 * leaving the engine's subscriptions to wait for it to come back (which is right for a running
 * engine, and wrong for a command a person just typed).
 */
async function assertReachable(store: EventStore, uri: string | undefined): Promise<void> {
  const { UnavailableError } = await import('../store/errors.js');
  try {
    for await (const _event of store.readAll({ maxCount: 1 })) break;
  } catch (error) {
    if (error instanceof UnavailableError) throw new CliError(`Cannot reach the event store ${uri ?? '(default)'}: ${error.message}`);
    throw error;
  }
}

/** JSON with bigint written as a number when safe, else as a string. */
export function toJson(value: unknown, indent = 2): string {
  return JSON.stringify(
    value,
    (_key, v: unknown) => (typeof v === 'bigint' ? (v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v.toString()) : v),
    indent,
  );
}

export function printJson(value: unknown): void {
  process.stdout.write(`${toJson(value)}\n`);
}
