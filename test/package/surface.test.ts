/**
 * The public surface (src/index.ts), pinned: the value exports by name at run time, the types and
 * signatures by `expectTypeOf` (checked by `npm run typecheck`, which covers test/). Removing or
 * renaming a published name fails here; so does publishing a new one without adding it below.
 */
import { describe, expect, expectTypeOf, it } from 'vitest';
import * as cadenza from '../../src/index.js';
import type {
  ActionContext,
  ActiveWorkflowState,
  AgentCall,
  AgentCallResult,
  AgentDefinition,
  AgentTransport,
  CadenzaConfigInput,
  DefineAgentOptions,
  DrainReport,
  DefinitionIssue,
  Engine,
  EngineOptions,
  EventStore,
  HistoryEntry,
  HttpAgentOptions,
  Json,
  LocatedIssue,
  ReplayResult,
  StartWorkflowOptions,
  StepDefinitionInput,
  WorkflowDefinition,
  WorkflowDefinitionInput,
  WorkflowEvent,
  WorkflowState,
  WorkflowStatusView,
  WorkerConfig,
  WorkerOptions,
} from '../../src/index.js';

const values = [
  'AccessDeniedError',
  'AgentCardError',
  'AgentFailure',
  'CommandRejectedError',
  'ConfigError',
  'DefinitionError',
  'DefinitionFileError',
  'EventParseError',
  'InvalidArgumentError',
  'InvalidWorkflowIdError',
  'MaximumAppendSizeExceededError',
  'StoreClosedError',
  'StoreError',
  'StreamDeletedError',
  'StreamNotFoundError',
  'UnavailableError',
  'UnknownDefinitionError',
  'WorkflowBuilder',
  'WorkflowNotFoundError',
  'Worker',
  'WrongExpectedVersionError',
  'createEngine',
  'defaultStoreUri',
  'defineAgent',
  'defineConfig',
  'definitionHash',
  'httpAgent',
  'httpTransport',
  'inProcessTransport',
  'loadConfig',
  'loadDefinitionFile',
  'openStore',
  'parseConfig',
  'parseDefinitionText',
  'RemoteA2aAgent',
  'serveAgent',
  'statusView',
  'validateDefinition',
  'workflow',
  'workflowDefinitionJsonSchema',
];

describe('the public surface', () => {
  it('exports exactly the published values', () => {
    expect(Object.keys(cadenza).sort()).toEqual([...values].sort());
  });

  it('keeps the signatures of the engine facade', () => {
    expectTypeOf(cadenza.createEngine).parameter(0).toEqualTypeOf<EngineOptions | undefined>();
    expectTypeOf(cadenza.createEngine).returns.resolves.toEqualTypeOf<Engine>();
    expectTypeOf<EngineOptions['store']>().toEqualTypeOf<EventStore | string | undefined>();
    expectTypeOf<EngineOptions['definitions']>().toEqualTypeOf<readonly (WorkflowDefinition | WorkflowDefinitionInput)[] | undefined>();
    expectTypeOf<EngineOptions['agents']>().toEqualTypeOf<readonly AgentDefinition[] | undefined>();
    expectTypeOf<Engine['start']>().parameters.toEqualTypeOf<[string | WorkflowDefinition | WorkflowDefinitionInput, Json, (StartWorkflowOptions | undefined)?]>();
    expectTypeOf<Engine['start']>().returns.resolves.toEqualTypeOf<{ workflowId: string }>();
    expectTypeOf<Engine['wait']>().returns.resolves.toEqualTypeOf<ActiveWorkflowState>();
    expectTypeOf<Engine['cancel']>().returns.resolves.toEqualTypeOf<WorkflowEvent[]>();
    expectTypeOf<Engine['retry']>().parameters.toEqualTypeOf<[string]>();
    expectTypeOf<Engine['compensate']>().parameters.toEqualTypeOf<[string, (string | undefined)?]>();
    expectTypeOf<Engine['status']>().returns.resolves.toEqualTypeOf<WorkflowStatusView>();
    expectTypeOf<Engine['history']>().returns.toEqualTypeOf<AsyncIterable<HistoryEntry>>();
    expectTypeOf<HistoryEntry['event']>().toEqualTypeOf<WorkflowEvent>();
    expectTypeOf<Engine['replay']>().returns.resolves.toEqualTypeOf<ReplayResult>();
    expectTypeOf<ReplayResult['state']>().toEqualTypeOf<ActiveWorkflowState>();
    expectTypeOf<Engine['stop']>().parameters.toEqualTypeOf<[({ readonly drainMs?: number } | undefined)?]>();
    expectTypeOf<ActiveWorkflowState>().toMatchTypeOf<WorkflowState>();
  });

  it('keeps the signatures of definitions and agents', () => {
    expectTypeOf(cadenza.workflow).returns.toEqualTypeOf<cadenza.WorkflowBuilder>();
    expectTypeOf<cadenza.WorkflowBuilder['step']>().parameter(0).toEqualTypeOf<StepDefinitionInput>();
    expectTypeOf<cadenza.WorkflowBuilder['build']>().returns.toEqualTypeOf<WorkflowDefinition>();
    expectTypeOf(cadenza.validateDefinition).returns.toEqualTypeOf<WorkflowDefinition>();
    expectTypeOf(cadenza.loadDefinitionFile).toEqualTypeOf<(path: string) => Promise<WorkflowDefinition>>();
    expectTypeOf(cadenza.parseDefinitionText).returns.toEqualTypeOf<WorkflowDefinition>();
    expectTypeOf<cadenza.DefinitionError['issues']>().toEqualTypeOf<readonly DefinitionIssue[]>();
    expectTypeOf<cadenza.DefinitionFileError['issues']>().toEqualTypeOf<readonly LocatedIssue[]>();
    expectTypeOf<cadenza.DefinitionFileError>().toMatchTypeOf<cadenza.DefinitionError>();

    expectTypeOf(cadenza.defineAgent).toEqualTypeOf<(options: DefineAgentOptions) => AgentDefinition>();
    expectTypeOf(cadenza.httpAgent).toEqualTypeOf<(options: HttpAgentOptions) => AgentDefinition>();
    expectTypeOf<DefineAgentOptions['handlers'][string]>().parameters.toEqualTypeOf<[Json, ActionContext]>();
    expectTypeOf<HttpAgentOptions['url']>().toEqualTypeOf<string | URL>();
    expectTypeOf<AgentDefinition['transport']>().toEqualTypeOf<AgentTransport>();
    expectTypeOf<AgentTransport['invoke']>().parameter(0).toEqualTypeOf<AgentCall>();
    expectTypeOf<AgentTransport['invoke']>().returns.resolves.toEqualTypeOf<AgentCallResult>();
    expectTypeOf(cadenza.openStore).toEqualTypeOf<(uri?: string) => Promise<EventStore>>();

    expectTypeOf(cadenza.serveAgent).parameter(0).toEqualTypeOf<cadenza.ServeAgentOptions>();
    expectTypeOf(cadenza.serveAgent).returns.resolves.toEqualTypeOf<cadenza.ServedAgent>();
    expectTypeOf<cadenza.ServeAgentOptions['handlers'][string]>().toEqualTypeOf<DefineAgentOptions['handlers'][string]>();
    expectTypeOf<cadenza.RemoteA2aAgent['transport']>().toMatchTypeOf<AgentTransport>();
    expectTypeOf<cadenza.RemoteA2aAgent['discover']>().returns.resolves.toEqualTypeOf<AgentDefinition | undefined>();
  });

  it('keeps the signatures of the worker', () => {
    expectTypeOf(cadenza.loadConfig).toEqualTypeOf<(file: string) => Promise<WorkerConfig>>();
    expectTypeOf(cadenza.defineConfig).toEqualTypeOf<(config: CadenzaConfigInput) => CadenzaConfigInput>();
    expectTypeOf(cadenza.Worker.start).toEqualTypeOf<(options: WorkerOptions) => Promise<cadenza.Worker>>();
    expectTypeOf<cadenza.Worker['drain']>().returns.resolves.toEqualTypeOf<DrainReport>();
    expectTypeOf<cadenza.Worker['engine']>().toEqualTypeOf<Engine>();
    expectTypeOf<WorkerConfig['definitions']>().toEqualTypeOf<readonly WorkflowDefinition[]>();
    expectTypeOf<CadenzaConfigInput['agents']>().toEqualTypeOf<readonly AgentDefinition[] | undefined>();
  });

  it('keeps the typed errors distinguishable', () => {
    const errors = [cadenza.DefinitionError, cadenza.CommandRejectedError, cadenza.WorkflowNotFoundError, cadenza.UnknownDefinitionError, cadenza.AgentFailure, cadenza.StoreError];
    for (const error of errors) expect(error.prototype).toBeInstanceOf(Error);
    expect(new cadenza.StreamNotFoundError('s')).toBeInstanceOf(cadenza.StoreError);
    expect(new cadenza.DefinitionFileError('f.json', [])).toBeInstanceOf(cadenza.DefinitionError);
  });
});
