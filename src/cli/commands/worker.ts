/**
 * `cadenza worker --config <file>`: a long-running worker hosting the config's definitions and
 * agents (src/worker). Logs are pino JSON lines on stderr, like every command's logs, so stdout
 * keeps only the `--json` summary printed at exit. SIGINT/SIGTERM drain it (see Worker.drain) and
 * it exits 0; what is unfinished is left in the store for the next worker.
 */
import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import pino from 'pino';
import { Worker, type DrainReport } from '../../worker/index.js';
import { loadCliConfig } from '../config.js';
import { printJson, withStore, type GlobalOptions } from '../context.js';

const levels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

interface WorkerCommandOptions {
  config: string;
  logLevel?: (typeof levels)[number];
}

export function register(program: Command): void {
  program
    .command('worker')
    .description("host a config's workflow definitions and agents until SIGINT/SIGTERM, then drain and exit 0")
    .requiredOption('-c, --config <file>', 'worker config: cadenza.config.mjs (or .js, .ts)')
    .option('--log-level <level>', `log level (${levels.join(', ')}; default: the config's, else info)`, (value: string) => {
      if (!(levels as readonly string[]).includes(value)) throw new InvalidArgumentError(`expected one of ${levels.join(', ')}, got "${value}"`);
      return value;
    })
    .action(async (options: WorkerCommandOptions, command: Command) => {
      const globals = command.optsWithGlobals<GlobalOptions>();
      const config = await loadCliConfig(options.config);
      const logger = pino({ level: options.logLevel ?? (globals.verbose ? 'debug' : config.logLevel), base: { pid: process.pid } }, pino.destination(2));
      const store = globals.store ?? config.store;
      const report = await withStore({ ...globals, ...(store === undefined ? {} : { store }) }, async (opened) => {
        // Signals are caught before the worker starts: one that arrives during start-up drains it once started.
        let stopRequested: ((signal: string) => void) | undefined;
        const stopped = new Promise<string>((resolve) => {
          stopRequested = resolve;
        });
        const onSignal = (signal: NodeJS.Signals) => {
          logger.info({ signal }, 'stop requested');
          stopRequested?.(signal);
        };
        process.on('SIGINT', onSignal);
        process.on('SIGTERM', onSignal);
        try {
          const worker = await Worker.start({ config, store: opened, logger });
          return await worker.drain(await stopped);
        } finally {
          process.off('SIGINT', onSignal);
          process.off('SIGTERM', onSignal);
        }
      });
      if (globals.json) printJson(report satisfies DrainReport);
      await new Promise<void>((resolve) => logger.flush(() => resolve()));
    });
}
