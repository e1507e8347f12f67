/**
 * `cadenza store serve`: the embedded EventStoreDB-compatible gRPC server over a local store, so
 * the official client (and `cadenza --store esdb://...`) can talk to it; `cadenza store info`.
 */
import { Option, type Command } from 'commander';
import { readFileSync } from 'node:fs';
import { isLoopback } from '../../shared/loopback.js';
import { defaultStoreUri, openServedStore, openStore } from '../../store/open.js';
import { formatStoreInfo, storeInfo } from './store-info.js';
import { CliError, ExitCode, printJson, type GlobalOptions } from '../context.js';
import { integer } from '../options.js';

/** Where `--password` may also come from, so the secret is not in the process list. */
const PASSWORD_VARIABLE = 'CADENZA_STORE_PASSWORD';

interface ServeOptions {
  port: number;
  host: string;
  db?: string;
  memory?: boolean;
  username?: string;
  password?: string;
  passwordFile?: string;
  insecure?: boolean;
  tlsCert?: string;
  tlsKey?: string;
  maxAppendSize: number;
  systemProjections?: boolean;
}

export function register(program: Command): void {
  const store = program.command('store').description('the event store: serve it over the EventStoreDB protocol');
  store
    .command('serve')
    .description('serve a local store over the EventStoreDB gRPC protocol (connect with esdb://host:port?tls=false)')
    .option('-p, --port <port>', 'port (0 = any free port)', integer(0, 65_535), 2113)
    .option('--host <host>', 'interface to listen on (loopback by default)', '127.0.0.1')
    .option('--db <path>', 'SQLite file to serve (default: --store, or ./.cadenza/cadenza.db)')
    .option('--memory', 'serve an in-memory store (gone when the server stops)')
    .option('--username <name>', 'require these credentials (with a password; needs TLS)')
    .addOption(new Option('--password <secret>', `the password (visible in ps: prefer --password-file or ${PASSWORD_VARIABLE})`).env(PASSWORD_VARIABLE))
    .option('--password-file <file>', 'read the password from this file (its first line)')
    .option('--tls-cert <file>', 'PEM certificate: serve TLS (with --tls-key)')
    .option('--tls-key <file>', 'PEM private key (with --tls-cert)')
    .option('--insecure', 'serve beyond loopback without credentials, or credentials without TLS, anyway')
    .option('--max-append-size <bytes>', 'largest append accepted, as EventStoreDB MaxAppendSize', integer(1), 1_048_576)
    .option('--system-projections', 'write the system projections $ce-, $et-, $streams, $category- as link events, as EventStoreDB does')
    .action(async (options: ServeOptions, command: Command) => {
      const globals = command.optsWithGlobals<GlobalOptions>();
      if (options.memory && options.db) throw new CliError('Use either --db or --memory, not both', ExitCode.Usage);
      if ((options.tlsCert === undefined) !== (options.tlsKey === undefined)) throw new CliError('--tls-cert and --tls-key go together', ExitCode.Usage);
      const credentials = credentialsOf(options, command.getOptionValueSource('password') === 'env');
      checkExposure(options.host, credentials !== undefined, options.tlsCert !== undefined, options.insecure === true);
      const uri = options.memory ? 'memory:' : options.db ? `sqlite:${options.db}` : globals.store;
      if (uri?.startsWith('esdb')) throw new CliError('store serve serves a local store (sqlite: or memory:), not an esdb:// one', ExitCode.Usage);
      const backing = await openServedStore(uri);
      const { startEsdbServer } = await import('../../esdb-server/index.js');
      const server = await startEsdbServer({
        store: backing,
        host: options.host,
        port: options.port,
        maxAppendSize: options.maxAppendSize,
        systemProjections: options.systemProjections === true,
        ...credentials,
        ...(options.tlsCert && options.tlsKey ? { tls: { certFile: options.tlsCert, keyFile: options.tlsKey } } : {}),
      }).catch(async (error: unknown) => {
        await backing.close();
        throw error;
      });
      const tls = options.tlsCert ? 'true' : 'false';
      const ready = { ready: true, address: server.address, connectionString: `esdb://${server.address}?tls=${tls}`, store: uri ?? 'default' };
      // The signal handlers first: a script that sends SIGTERM as soon as it reads the ready line
      // must get a clean shutdown, not the default action of a signal nobody handles yet.
      const stopRequested = new Promise<void>((resolve) => {
        const stop = () => resolve();
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
      // One line when ready: scripts (and tests) wait for it.
      if (globals.json) process.stdout.write(`${JSON.stringify(ready)}\n`);
      else process.stdout.write(`cadenza EventStoreDB-compatible server listening on ${server.address} (connect with ${ready.connectionString})\n`);
      await stopRequested;
      await server.close();
      await backing.close();
      if (!globals.json) process.stderr.write('server stopped\n');
    });

  store
    .command('info')
    .description('what the store holds: events, workflows, definitions, bytes and bytes per workflow (reads the whole log)')
    .action(async (_options: unknown, command: Command) => {
      const globals = command.optsWithGlobals<GlobalOptions>();
      const uri = globals.store ?? defaultStoreUri();
      const backing = await openStore(uri);
      try {
        const info = await storeInfo(backing, uri);
        if (globals.json) printJson(info);
        else process.stdout.write(formatStoreInfo(info));
      } finally {
        await backing.close();
      }
    });
}

/** The credentials asked for: a username and exactly one password source, or neither. */
function credentialsOf(options: ServeOptions, passwordFromEnvironment: boolean): { username: string; password: string } | undefined {
  const { username, passwordFile } = options;
  // A password in the environment is a default: alone it asks for nothing (it may be set for other
  // runs), and a --password-file given on the command line wins over it.
  const ignoreEnvironment = username === undefined || passwordFile !== undefined || options.password === '';
  const password = passwordFromEnvironment && ignoreEnvironment ? undefined : options.password;
  if (password !== undefined && passwordFile !== undefined) {
    throw new CliError(`Give the password one way: --password-file, --password or ${PASSWORD_VARIABLE}, not several`, ExitCode.Usage);
  }
  if (username === undefined) {
    if (password !== undefined || passwordFile !== undefined) throw new CliError('A password needs --username', ExitCode.Usage);
    return undefined;
  }
  const secret = passwordFile !== undefined ? readPasswordFile(passwordFile) : password;
  if (secret === undefined) throw new CliError(`--username needs a password: --password-file <file>, ${PASSWORD_VARIABLE}, or --password`, ExitCode.Usage);
  if (secret === '') throw new CliError(`The password for --username ${username} is empty`, ExitCode.Usage);
  return { username, password: secret };
}

function readPasswordFile(file: string): string {
  try {
    return (readFileSync(file, 'utf8').split(/\r?\n/)[0] ?? '');
  } catch (error) {
    throw new CliError(`Cannot read --password-file ${file}: ${(error as Error).message}`, ExitCode.Usage);
  }
}

/**
 * Refuse a server that would be open to more than its owner thinks: beyond loopback with no
 * credentials anyone on the network can read and write the store; credentials without TLS are never
 * sent by EventStoreDB clients (they drop them on tls=false), so no client could authenticate.
 * `--insecure` says the user means it; then a warning is the one line on stderr.
 */
function checkExposure(host: string, withCredentials: boolean, withTls: boolean, insecure: boolean): void {
  const problems: string[] = [];
  if (!isLoopback(host) && !withCredentials) {
    problems.push(`serving on ${host} without credentials lets anyone who can reach this host read and write the store (add --username with --password-file or ${PASSWORD_VARIABLE}, and --tls-cert/--tls-key)`);
  }
  if (withCredentials && !withTls) {
    problems.push('credentials without TLS cannot be used: EventStoreDB clients send them only over TLS (add --tls-cert and --tls-key)');
  }
  if (problems.length === 0) return;
  if (!insecure) throw new CliError(`Refusing to start: ${problems.join('; ')}; or pass --insecure if you mean it`, ExitCode.Usage);
  process.stderr.write(`cadenza: warning (--insecure): ${problems.join('; ')}\n`);
}
