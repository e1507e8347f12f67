/**
 * Every CLI command lives in its own module exporting `register(program)`. This list is the one
 * place that names them, so `cadenza --help` shows exactly what is wired.
 */
import type { Command } from 'commander';

type Registrar = (program: Command) => void;

export const commandModules: ReadonlyArray<() => Promise<{ register: Registrar }>> = [
  () => import('./demo.js'),
  () => import('./run.js'),
  () => import('./worker.js'),
  () => import('./status.js'),
  () => import('./history.js'),
  () => import('./sagas.js'),
  () => import('./store.js'),
  () => import('./list.js'),
  () => import('./backlog.js'),
  () => import('./watch.js'),
  () => import('./replay.js'),
  () => import('./fork.js'),
  () => import('./retry.js'),
  () => import('./compensate.js'),
  () => import('./cancel.js'),
  () => import('./resolve.js'),
  () => import('./audit.js'),
  () => import('./projections.js'),
  () => import('./validate.js'),
  () => import('./serve.js'),
  () => import('./agent.js'),
];
