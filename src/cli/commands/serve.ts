/**
 * `cadenza serve --http <host:port>`: the HTTP API (read-only views, operator commands, SSE, metrics)
 * over a store that workers write to. Loopback by default; any other bind needs a bearer token
 * (`--token-file` or CADENZA_API_TOKEN), else it refuses to start (exit 2). Runs until SIGINT/SIGTERM.
 */
import { InvalidArgumentError, type Command } from 'commander';
import { readFileSync } from 'node:fs';
import pino from 'pino';
import { ApiConfigError, assertBindAllowed } from '../../api/auth.js';
import { CliError, ExitCode, withStore, type GlobalOptions } from '../context.js';

export const TOKEN_VARIABLE = 'CADENZA_API_TOKEN';

interface ServeOptions {
  http: { host: string; port: number };
  tokenFile?: string;
  readmodels?: string;
}

/** `8080`, `:8080`, `host:8080`, `[::1]:8080`. */
export function hostPort(value: string): { host: string; port: number } {
  const match = /^(?:(\[[^\]]+\]|[^:[\]]*):)?(\d{1,5})$/.exec(value.trim());
  const port = Number(match?.[2]);
  if (!match || port > 65_535) throw new InvalidArgumentError(`expected <host:port> such as 127.0.0.1:8080, got "${value}"`);
  const host = (match[1] ?? '').replace(/^\[(.*)\]$/, '$1');
  return { host: host === '' ? '127.0.0.1' : host, port };
}

export function register(program: Command): void {
  program
    .command('serve')
    .description('serve the HTTP API (workflows, operator commands, audit, read models, live events, /metrics) for a store workers write to')
    .option('--http <host:port>', 'where to listen (loopback by default)', hostPort, { host: '127.0.0.1', port: 8080 })
    .option('--token-file <file>', `bearer token clients must send (its first line); or ${TOKEN_VARIABLE}. Required beyond loopback`)
    .option('--readmodels <path>', 'read-model database (default: next to the store; env CADENZA_READMODELS)')
    .action(async (options: ServeOptions, command: Command) => {
      const globals = command.optsWithGlobals<GlobalOptions>();
      const token = tokenOf(options.tokenFile);
      checkBind(options.http.host, token);
      const { defaultReadModelPath } = await import('../../projections/readmodel-db.js');
      const { startApiServer } = await import('../../api/server.js');
      await withStore(globals, async (store) => {
        const server = await startApiServer({
          store,
          readModels: options.readmodels ?? defaultReadModelPath(globals.store),
          host: options.http.host,
          port: options.http.port,
          ...(token === undefined ? {} : { token }),
          logger: pino({ level: globals.verbose ? 'info' : 'warn', base: undefined }, pino.destination(2)),
        });
        const stopRequested = new Promise<void>((resolve) => {
          process.once('SIGINT', () => resolve());
          process.once('SIGTERM', () => resolve());
        });
        // One line when ready: scripts (and tests) wait for it.
        if (globals.json) process.stdout.write(`${JSON.stringify({ ready: true, url: server.url, auth: token !== undefined })}\n`);
        else process.stdout.write(`cadenza API listening on ${server.url}: the dashboard at ${server.url}/, OpenAPI at ${server.url}/api/v1/openapi.json\n`);
        await stopRequested;
        await server.close();
      });
    });
}

/** A non-loopback bind without a token is refused before anything is opened (exit 2, saying why). */
export function checkBind(host: string, token: string | undefined): void {
  try {
    assertBindAllowed(host, token);
  } catch (error) {
    if (error instanceof ApiConfigError) throw new CliError(error.message, ExitCode.Usage);
    throw error;
  }
}

export function tokenOf(file: string | undefined): string | undefined {
  if (file !== undefined) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (error) {
      throw new CliError(`Cannot read --token-file ${file}: ${(error as Error).message}`, ExitCode.Usage);
    }
    const token = text.split(/\r?\n/)[0]?.trim() ?? '';
    if (token === '') throw new CliError(`--token-file ${file} is empty`, ExitCode.Usage);
    return token;
  }
  const fromEnv = process.env[TOKEN_VARIABLE]?.trim();
  return fromEnv === undefined || fromEnv === '' ? undefined : fromEnv;
}
