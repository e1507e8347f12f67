/** `cadenza history <id>`: every event of a workflow, in order. */
import type { Command } from 'commander';
import { workflowStream } from '../../saga/stream/names.js';
import { StreamNotFoundError } from '../../store/errors.js';
import { jsonView, metadataObject, type Json, type JsonObject } from '../../store/port.js';
import { CliError, ExitCode, printJson, withStore, type GlobalOptions } from '../context.js';

interface HistoryEntry {
  readonly revision: bigint;
  readonly type: string;
  readonly created: string;
  readonly id: string;
  readonly data: Json;
  readonly metadata: JsonObject;
}

export function register(program: Command): void {
  program
    .command('history')
    .description("a workflow's events, in order")
    .argument('<workflowId>')
    .action(async (workflowId: string, _options: unknown, command: Command) => {
      const globals = command.optsWithGlobals<GlobalOptions>();
      await withStore(globals, async (store) => {
        const events: HistoryEntry[] = [];
        try {
          for await (const e of store.readStream(workflowStream(workflowId))) {
            const entry = { revision: e.revision, type: e.type, created: e.created.toISOString(), id: e.id, data: jsonView(e.data), metadata: metadataObject(e.metadata) };
            // Human output streams line by line; JSON needs the whole document.
            if (globals.json) events.push(entry);
            else process.stdout.write(`${String(e.revision).padStart(4)}  ${entry.created}  ${e.type.padEnd(28)}${describe(entry.data)}\n`);
          }
        } catch (error) {
          if (error instanceof StreamNotFoundError) throw new CliError(`Unknown workflow "${workflowId}"`, ExitCode.NotFound);
          throw error;
        }
        if (globals.json) printJson({ workflowId, events });
      });
    });
}

function describe(data: Json): string {
  if (data === null || typeof data !== 'object' || Array.isArray(data)) return '';
  const parts: string[] = [];
  for (const key of ['stepId', 'attempt', 'nextAttempt', 'agentId', 'reason'] as const) {
    const value = data[key];
    if (value !== undefined && value !== null) parts.push(`${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`);
  }
  const error = data.error;
  if (error && typeof error === 'object' && !Array.isArray(error) && typeof error.message === 'string') parts.push(`error="${error.message}"`);
  return parts.join(' ');
}
