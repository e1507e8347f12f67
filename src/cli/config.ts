/**
 * `--config <file>` for the commands that run an engine (worker, run, retry, compensate, fork):
 * the worker config loaded, a bad one reported as one line naming the field, exit 2.
 */
import { ConfigError, loadConfig, parseConfig, type CadenzaConfigInput, type WorkerConfig } from '../worker/config.js';
import { CliError, ExitCode } from './context.js';

export async function loadCliConfig(file: string): Promise<WorkerConfig> {
  try {
    return await loadConfig(file);
  } catch (error) {
    if (error instanceof ConfigError) throw new CliError(`Invalid config ${error.message}`, ExitCode.Usage);
    throw error;
  }
}

/** A config built in code (the shipped sagas'): validated the same way. */
export async function configOf(input: CadenzaConfigInput, source: string): Promise<WorkerConfig> {
  try {
    return await parseConfig(input, { source, baseDir: process.cwd() });
  } catch (error) {
    if (error instanceof ConfigError) throw new CliError(`Invalid config ${error.message}`, ExitCode.Usage);
    throw error;
  }
}
