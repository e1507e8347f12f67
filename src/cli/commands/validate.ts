/**
 * `cadenza validate <file>`: check a workflow definition file (JSON) without running anything.
 * Every problem is printed, one per line, with its line and column, the step, the field and why;
 * the file is invalid: exit 2. A valid file exits 0. No store is opened.
 */
import type { Command } from 'commander';
import { loadDefinitionFile } from '../../engine/definition-file.js';
import { definitionHash } from '../../workflow/hash.js';
import { DefinitionFileError } from '../../workflow/definition-text.js';
import { describeIssue } from '../../workflow/validate.js';
import { CliError, ExitCode, printJson, type GlobalOptions } from '../context.js';

export function register(program: Command): void {
  program
    .command('validate')
    .description('check a workflow definition file (JSON): names every problem with its step, field and line')
    .argument('<file>', 'the definition, e.g. order.workflow.json')
    .action(async (file: string, _options: unknown, command: Command) => {
      const globals = command.optsWithGlobals<GlobalOptions>();
      try {
        const definition = await loadDefinitionFile(file);
        const summary = { file, valid: true, name: definition.name, version: definition.version, steps: definition.steps.length, definitionHash: definitionHash(definition) };
        if (globals.json) printJson(summary);
        else process.stdout.write(`${file}: valid, workflow "${definition.name}" version ${definition.version}, ${definition.steps.length} step${definition.steps.length === 1 ? '' : 's'}\n`);
      } catch (error) {
        if (!(error instanceof DefinitionFileError)) throw error;
        if (globals.json) printJson({ file, valid: false, issues: error.issues });
        else for (const issue of error.issues) process.stdout.write(`${file}${issue.line === undefined ? '' : `:${issue.line}:${issue.column ?? 1}`}: ${describeIssue(issue)}\n`);
        const count = error.issues.length;
        throw new CliError(`${file} is not a valid workflow definition (${count} problem${count === 1 ? '' : 's'})`, ExitCode.Usage);
      }
    });
}
