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
import { checkBind, hostPort, tokenOf, TOKEN_VARIABLE } from './serve.js';
import { printJson, withStore, type GlobalOptions } from '../context.js';

const levels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

interface WorkerCommandOptions {
  config: string;
  logLevel?: (typeof levels)[number];
  http?: { host: string; port: number };
  tokenFile?: string;
  readmodels?: string;
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
    .option('--http <host:port>', 'also serve the HTTP API, live events and /metrics (docs/api.md; loopback unless a token is set)', hostPort)
    .option('--token-file <file>', `bearer token for the HTTP API (its first line); or ${TOKEN_VARIABLE}. Required beyond loopback`)
    .option('--readmodels <path>', 'read-model database of the HTTP API (default: next to the store)')
    .action(async (options: WorkerCommandOptions, command: Command) => {
      const globals = command.optsWithGlobals<GlobalOptions>();
      const token = options.http ? tokenOf(options.tokenFile) : undefined;
      if (options.http) checkBind(options.http.host, token);
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
          // Loaded only when asked for: fastify costs start-up time a plain worker need not pay.
          const { startApiServer } = options.http ? await import('../../api/server.js') : { startApiServer: undefined };
          const { defaultReadModelPath } = await import('../../projections/readmodel-db.js');
          const api = options.http && startApiServer
            ? await startApiServer({
                store: opened,
                engine: worker.engine,
                readModels: options.readmodels ?? defaultReadModelPath(store),
                host: options.http.host,
                port: options.http.port,
                ...(token === undefined ? {} : { token }),
                logger: logger.child({ component: 'api' }),
              })
            : undefined;
          if (api) logger.info({ url: api.url }, 'api listening');
          const signal = await stopped;
          await api?.close();
          return await worker.drain(signal);
        } finally {
          process.off('SIGINT', onSignal);
          process.off('SIGTERM', onSignal);
        }
      });
      if (globals.json) printJson(report satisfies DrainReport);
      await new Promise<void>((resolve) => logger.flush(() => resolve()));
    });
}
