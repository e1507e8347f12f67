/**
 * What a runtime does when its leases change while it is live (partitions.ts renews them): the
 * workflows of a partition lost leave memory and timers (their new owner drives them); those of a
 * partition gained are found through the partition's in-flight index and its tail
 * (partition-index.ts), and each goes through its workflow's own queue as a `takeover` trigger:
 * load, arm timers, re-send the calls in flight under their keys, as start-up does.
 *
 * Admissions from the backlog wait until every workflow taken over holds its slot or its place, so
 * a workflow that was running at the old owner is never overtaken by one that was queued.
 */
import type { Logger } from 'pino';
import type { CachedWorkflow, WorkflowStates } from './workflow-states.js';
import type { WorkflowOwnership } from './ownership.js';
import type { PartitionIndex } from './partition-index.js';

/** What a takeover asks of the runtime it works for. */
export interface TakeoverHost {
  readonly states: WorkflowStates;
  readonly ownership: WorkflowOwnership;
  readonly index: PartitionIndex;
  readonly log: Logger;
  /** Caught up: before that, start-up's catch-up reads the partitions held. */
  live(): boolean;
  stopped(): boolean;
  /** Out of memory, timers and backlog: another runtime drives it now. */
  drop(workflowId: string): void;
  /** Queue a `takeover` trigger behind the workflow's others; it comes back to `takeOver`. */
  enqueueTakeover(workflowId: string): void;
  /** Settle a workflow just loaded (memory, slot or place, timers). */
  settle(workflowId: string, loaded: CachedWorkflow): void;
  /** It waits for agents or has calls in flight: decide a `resume` (re-send under the same keys). */
  resume(workflowId: string, loaded: CachedWorkflow): void;
  /** Write the in-flight index now: the partitions just taken are indexed from here on. */
  writeCheckpoint(): void;
  admitQueued(): void;
}

export class PartitionTakeovers {
  readonly #host: TakeoverHost;
  readonly #running = new Set<Promise<void>>();
  /** `takeover` triggers queued and not yet processed. */
  #queued = 0;

  constructor(host: TakeoverHost) {
    this.#host = host;
  }

  /** While any is queued, nothing is admitted from the backlog. */
  get pending(): boolean {
    return this.#queued > 0;
  }

  /** After a lease renewal: drop the workflows of partitions lost; take over those of partitions gained. */
  changed(tableKey: string, gained: readonly number[], lost: readonly number[]): void {
    const host = this.#host;
    if (lost.length > 0) {
      const gone = new Set(lost);
      for (const [workflowId, { state }] of [...host.states.entries()]) {
        if (state.status === 'idle' || host.ownership.tableKey(state.definition) !== tableKey) continue;
        if (gone.has(host.ownership.leases.partitionOf(tableKey, workflowId) ?? -1)) host.drop(workflowId);
      }
      host.log.info({ table: tableKey, lost }, 'partitions released');
    }
    if (gained.length > 0 && host.live() && !host.stopped()) {
      const takeover = this.#takeOverPartitions(tableKey, gained).catch((error: unknown) => host.log.error({ err: error, table: tableKey, gained }, 'partition takeover failed'));
      this.#running.add(takeover);
      void takeover.finally(() => this.#running.delete(takeover));
    }
  }

  /** Resolves once every takeover under way has queued its workflows (at stop). */
  async settled(): Promise<void> {
    await Promise.all(this.#running);
  }

  /**
   * A partition gained while live: its in-flight workflows are those its last checkpoint names plus
   * those in the tail after it (read with every other partition's events passed over unread).
   */
  async #takeOverPartitions(tableKey: string, partitions: readonly number[]): Promise<void> {
    const host = this.#host;
    const wanted = new Set(partitions);
    const inPartition = (workflowId: string) => wanted.has(host.ownership.leases.partitionOf(tableKey, workflowId) ?? -1) && !host.ownership.isForeign(workflowId);
    try {
      const { workflows, fromIndex } = await host.index.takeOver(tableKey, partitions, inPartition, () => host.stopped());
      for (const workflowId of workflows) {
        if (host.stopped()) break;
        this.#queued++;
        host.enqueueTakeover(workflowId);
      }
      host.index.doneTakingOver(tableKey, partitions);
      host.writeCheckpoint();
      host.log.info({ table: tableKey, gained: partitions, workflows: workflows.size, fromIndex }, 'partitions taken over');
    } finally {
      host.index.doneTakingOver(tableKey, partitions);
    }
  }

  /** In the workflow's queue: load it fresh, settle it, and resume its calls in flight if it is ours to drive. */
  async takeOver(workflowId: string): Promise<void> {
    const host = this.#host;
    try {
      // Already driven here: a partition lost leaves memory, so this one was taken up since the gain
      // (admitted or observed while the tail was read). Its calls in flight were made here, or are
      // the old owner's to report (a live one decides its calls' results; a dead one's time out):
      // resuming would send the calls made here twice.
      if (host.states.has(workflowId)) return;
      host.states.forget(workflowId);
      const loaded = await host.states.load(workflowId);
      host.settle(workflowId, loaded);
      if (host.states.has(workflowId) && host.ownership.owns(workflowId, loaded.state)) host.resume(workflowId, loaded);
    } finally {
      // The last one admits: a workflow that held a slot at the old owner keeps it before any queued one is admitted.
      if (--this.#queued === 0) host.admitQueued();
    }
  }
}
