/**
 * `cadenza store serve`: the embedded EventStoreDB-compatible gRPC server over a local store, so
 * the official client (and `cadenza --store esdb://...`) can talk to it; `cadenza store info`.
 */
import type { Command } from 'commander';
import { openStore } from '../../store/open.js';
import { CliError, ExitCode, printJson, type GlobalOptions } from '../context.js';
import { integer } from '../options.js';

interface ServeOptions {
  port: number;
  host: string;
  db?: string;
  memory?: boolean;
  username?: string;
  password?: string;
  tlsCert?: string;
  tlsKey?: string;
  maxAppendSize: number;
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
    .option('--username <name>', 'require these credentials (with --password)')
    .option('--password <secret>', 'require these credentials (with --username)')
    .option('--tls-cert <file>', 'PEM certificate: serve TLS (with --tls-key)')
    .option('--tls-key <file>', 'PEM private key (with --tls-cert)')
    .option('--max-append-size <bytes>', 'largest append accepted, as EventStoreDB MaxAppendSize', integer(1), 1_048_576)
    .action(async (options: ServeOptions, command: Command) => {
      const globals = command.optsWithGlobals<GlobalOptions>();
      if (options.memory && options.db) throw new CliError('Use either --db or --memory, not both', ExitCode.Usage);
      if ((options.username === undefined) !== (options.password === undefined)) throw new CliError('--username and --password go together', ExitCode.Usage);
      if ((options.tlsCert === undefined) !== (options.tlsKey === undefined)) throw new CliError('--tls-cert and --tls-key go together', ExitCode.Usage);
      const uri = options.memory ? 'memory:' : options.db ? `sqlite:${options.db}` : globals.store;
      if (uri?.startsWith('esdb')) throw new CliError('store serve serves a local store (sqlite: or memory:), not an esdb:// one', ExitCode.Usage);
      const backing = await openStore(uri);
      const { startEsdbServer } = await import('../../esdb-server/index.js');
      const server = await startEsdbServer({
        store: backing,
        host: options.host,
        port: options.port,
        maxAppendSize: options.maxAppendSize,
        ...(options.username !== undefined && options.password !== undefined ? { username: options.username, password: options.password } : {}),
        ...(options.tlsCert && options.tlsKey ? { tls: { certFile: options.tlsCert, keyFile: options.tlsKey } } : {}),
      }).catch(async (error: unknown) => {
        await backing.close();
        throw error;
      });
      const tls = options.tlsCert ? 'true' : 'false';
      const ready = { ready: true, address: server.address, connectionString: `esdb://${server.address}?tls=${tls}`, store: uri ?? 'default' };
      // One line when ready: scripts (and tests) wait for it.
      if (globals.json) process.stdout.write(`${JSON.stringify(ready)}\n`);
      else process.stdout.write(`cadenza EventStoreDB-compatible server listening on ${server.address} (connect with ${ready.connectionString})\n`);
      await new Promise<void>((resolve) => {
        const stop = () => resolve();
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
      await server.close();
      await backing.close();
      if (!globals.json) process.stderr.write('server stopped\n');
    });

  store
    .command('info')
    .description('where the store is and how many events it holds')
    .action(async (_options: unknown, command: Command) => {
      const globals = command.optsWithGlobals<GlobalOptions>();
      const backing = await openStore(globals.store);
      try {
        let last: { position: string; created: string } | undefined;
        for await (const event of backing.readAll({ direction: 'backwards', maxCount: 1 })) last = { position: event.position.commit.toString(), created: event.created.toISOString() };
        const info = { store: globals.store ?? 'default', lastPosition: last?.position ?? null, lastEventAt: last?.created ?? null };
        if (globals.json) printJson(info);
        else process.stdout.write(`${info.store}: last event at position ${info.lastPosition ?? '-'} (${info.lastEventAt ?? 'empty'})\n`);
      } finally {
        await backing.close();
      }
    });
}
