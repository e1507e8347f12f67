/**
 * Which runtime drives which workflow. A runtime hosts definitions by name and version and drives
 * only the workflows started from them (the snapshot in WorkflowStarted says which); of those, only
 * the ones in partitions it leases (partitions.ts). Every other workflow in the store is left
 * untouched, so a worker never fails a workflow for lacking its agents.
 *
 * The runtime asks; this module answers from the hosted set, the ownership group and the leases.
 */
import type { WorkflowDefinition } from '../../workflow/definition.js';
import { BoundedSet } from '../../shared/bounded-set.js';
import type { WorkflowState } from '../state.js';
import { ALL_DEFINITIONS, PartitionLeases, type PartitionLeasesOptions } from './partitions.js';

/** `name@version`: how a hosted definition and a workflow's snapshot are matched. */
export function definitionKey(definition: Pick<WorkflowDefinition, 'name' | 'version'>): string {
  return `${definition.name}@${definition.version}`;
}

/** How many other runtimes' in-flight workflows are remembered as not ours (see `markForeign`). */
const FOREIGN_MEMORY = 100_000;

export interface OwnershipOptions {
  /** `name@version` of each hosted definition; undefined: every definition. */
  readonly hosted: ReadonlySet<string> | undefined;
  /** Joins the table keys: runtimes of other groups keep their own tables (SagaRuntimeOptions.ownershipGroup). */
  readonly group: string | undefined;
  readonly leases: Omit<PartitionLeasesOptions, 'tableKeys'>;
}

export class WorkflowOwnership {
  /** The partitions this runtime drives. */
  readonly leases: PartitionLeases;
  readonly #hosted: ReadonlySet<string> | undefined;
  readonly #group: string | undefined;
  /**
   * Workflows of definitions not hosted here, met in flight: their events are passed over unread.
   * Bounded: one forgotten is read once more and found foreign again.
   */
  readonly #foreign = new BoundedSet<string>(FOREIGN_MEMORY);

  constructor(options: OwnershipOptions) {
    this.#hosted = options.hosted;
    this.#group = options.group;
    const tableKeys = (this.#hosted === undefined ? [ALL_DEFINITIONS] : [...this.#hosted]).map((key) => this.#grouped(key));
    this.leases = new PartitionLeases({ ...options.leases, tableKeys });
  }

  /** Can a workflow of this definition be started here? */
  hostsDefinition(key: string): boolean {
    return this.#hosted === undefined || this.#hosted.has(key);
  }

  hostedKeys(): readonly string[] {
    return this.#hosted === undefined ? [] : [...this.#hosted];
  }

  /** Is the workflow's definition hosted here (or were no hosts named)? */
  hosts(state: WorkflowState): boolean {
    return state.status === 'idle' || this.hostsDefinition(definitionKey(state.definition));
  }

  /** The partition table a definition's workflows are leased through. */
  tableKey(definition: Pick<WorkflowDefinition, 'name' | 'version'>): string {
    return this.#grouped(this.#hosted === undefined ? ALL_DEFINITIONS : definitionKey(definition));
  }

  #grouped(key: string): string {
    return this.#group === undefined ? key : `${key}#${this.#group}`;
  }

  /**
   * Is the workflow this runtime's to drive now? Its definition is hosted here and this runtime
   * holds the valid lease of its partition. `definition`: a start's, before the workflow has a state.
   */
  owns(workflowId: string, state: WorkflowState, definition?: Pick<WorkflowDefinition, 'name' | 'version'>): boolean {
    const of = state.status === 'idle' ? definition : state.definition;
    if (of === undefined) return true; // nothing to drive yet: the decision says so
    if (!this.hostsDefinition(definitionKey(of))) return false;
    return this.leases.drives(this.tableKey(of), workflowId);
  }

  /** This runtime keeps the workflow in memory: hosted, and of a partition it leases (valid or not). */
  follows(workflowId: string, definition: Pick<WorkflowDefinition, 'name' | 'version'>): boolean {
    return this.leases.follows(this.tableKey(definition), workflowId);
  }

  /** Known to be another runtime's, or of a partition no table here leases. */
  notOurs(workflowId: string): boolean {
    return this.#foreign.has(workflowId) || !this.leases.followsAny(workflowId);
  }

  isForeign(workflowId: string): boolean {
    return this.#foreign.has(workflowId);
  }

  markForeign(workflowId: string): void {
    this.#foreign.add(workflowId);
  }

  /** A foreign workflow that ended: nothing more will come of it. */
  forgetForeign(workflowId: string): void {
    this.#foreign.delete(workflowId);
  }
}
