/** `cadenza sagas`: the saga definitions shipped with cadenza. */
import type { Command } from 'commander';
import { shippedSagas } from '../../../sagas/index.js';
import { definitionHash } from '../../workflow/hash.js';
import { printJson, type GlobalOptions } from '../context.js';

export function register(program: Command): void {
  program
    .command('sagas')
    .description('list the shipped saga definitions (with --json: the full definitions)')
    .action((_options: unknown, command: Command) => {
      const globals = command.optsWithGlobals<GlobalOptions>();
      const list = Object.values(shippedSagas).map((definition) => ({ name: definition.name, version: definition.version, hash: definitionHash(definition), description: definition.description, steps: definition.steps.map((s) => s.id), definition }));
      if (globals.json) printJson(list);
      else for (const saga of list) process.stdout.write(`${saga.name} v${saga.version} (${saga.hash.slice(0, 12)}): ${saga.steps.join(' -> ')}\n  ${saga.description}\n`);
    });
}
