/**
 * `cadenza watch <id>`: a live progress bar (stderr) until the workflow ends. The stream is followed
 * with a catch-up subscription and folded with the workflow-status fold; the ETA uses the
 * definition's historical step durations from the read model.
 */
import type { Command } from 'commander';
import { StagedView } from '../../projections/doc-fold.js';
import { withReadModels } from '../../projections/session.js';
import { readDefinitionStats } from '../../../projections/workflow-status/index.js';
import { definitionKey, workflowKey, workflowStatusFold, type WorkflowStatusReadModel } from '../../../projections/workflow-status/fold.js';
import { workflowStatusView, type WorkflowStatusView } from '../../../projections/workflow-status/view.js';
import { StreamNotFoundError } from '../../store/errors.js';
import type { EventStore } from '../../store/port.js';
import { CliError, ExitCode, printJson, withStore, type GlobalOptions } from '../context.js';
import { progressBar } from '../progress.js';
import { definitionsReady, fromRecorded, workflowStream } from '../../saga/stream/index.js';

const ended = new Set(['completed', 'failed', 'compensated', 'compensationFailed', 'cancelled', 'resolved']);

export function register(program: Command): void {
  program
    .command('watch')
    .description('follow a workflow live with a progress bar on stderr until it ends')
    .argument('<workflowId>')
    .option('--readmodels <path>', 'read-model database for ETAs (default: next to the store; env CADENZA_READMODELS)')
    .action(async (workflowId: string, options: { readmodels?: string }, command: Command) => {
      const globals = command.optsWithGlobals<GlobalOptions>();
      const view = await withStore(globals, async (store) => {
        const definitionName = await definitionOf(store, workflowId);
        const stats = await withReadModels(store, { storeUri: globals.store, path: options.readmodels, catchUp: ['workflow-status'] }, (db) =>
          readDefinitionStats(db, definitionName),
        );
        const docs = new Map<string, WorkflowStatusReadModel>(stats ? [[definitionKey(definitionName), stats]] : []);
        return follow(store, workflowId, docs);
      });
      if (globals.json) printJson(view);
      else process.stdout.write(`${view.workflowId} ${view.status} ${view.progress}% (${view.steps.completed}/${view.steps.total} steps)\n`);
      if (view.status !== 'completed') {
        throw new CliError(`workflow ${view.workflowId} ended ${view.status}${view.lastError ? `: ${view.lastError.message}` : ''}`, ExitCode.WorkflowNotCompleted);
      }
    });
}

/** The definition name from WorkflowStarted; NotFound for a workflow that does not exist. */
async function definitionOf(store: EventStore, workflowId: string): Promise<string> {
  try {
    for await (const recorded of store.readStream(workflowStream(workflowId), { maxCount: 1 })) {
      await definitionsReady(store, recorded);
      const event = fromRecorded(recorded);
      if (event.type === 'WorkflowStarted') return event.data.definition.name;
    }
  } catch (error) {
    if (!(error instanceof StreamNotFoundError)) throw error;
  }
  throw new CliError(`Unknown workflow "${workflowId}"`, ExitCode.NotFound);
}

async function follow(store: EventStore, workflowId: string, docs: Map<string, WorkflowStatusReadModel>): Promise<WorkflowStatusView> {
  const bar = progressBar(100, `${workflowId} |{bar}| {value}% | {status} {detail}`);
  const subscription = store.subscribeToStream(workflowStream(workflowId), { fromRevision: 'start' });
  let view: WorkflowStatusView | undefined;
  try {
    for await (const message of subscription) {
      if (message.kind !== 'event') continue;
      const staged = new StagedView<WorkflowStatusReadModel>((key) => docs.get(key));
      await definitionsReady(store, message.event);
      const input = workflowStatusFold.decode(message.event);
      if (input) workflowStatusFold.apply(staged, input);
      for (const [key, doc] of staged.writes()) if (doc !== null) docs.set(key, doc);
      const doc = docs.get(workflowKey(workflowId));
      if (doc?.kind !== 'workflow') continue;
      const stats = docs.get(definitionKey(doc.definitionName));
      view = workflowStatusView(doc, stats?.kind === 'definition' ? stats : undefined, Date.now());
      const running = view.running.map((r) => r.stepId).join(', ');
      bar.update(view.progress, { status: view.status, detail: [running && `running ${running}`, view.eta && `eta ${view.eta.at}`].filter(Boolean).join(' | ') });
      if (ended.has(view.status)) break;
    }
  } finally {
    bar.stop();
    await subscription.unsubscribe();
  }
  if (!view) throw new CliError(`Unknown workflow "${workflowId}"`, ExitCode.NotFound);
  return view;
}
