/** The worker: a config's definitions and agents hosted by one long-running engine. */
export { Worker, type WorkerOptions, type DrainReport } from './worker.js';
export { ConfigError, defineConfig, loadConfig, parseConfig, type CadenzaConfigInput, type WorkerConfig } from './config.js';
