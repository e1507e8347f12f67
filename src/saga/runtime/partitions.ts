/**
 * Which runtime drives which workflow when several share a store (docs/scaling.md, "Ownership"):
 * a workflow belongs to a partition (a stable hash of its id), and the partitions of each hosted
 * definition are leased to the live runtimes through a table stream, one per definition key. Each
 * event of that stream is the whole table (members with their lease expiry, the owner of each
 * partition), appended with the revision it was computed from: the expected revision is the fence,
 * so two runtimes can never both win the same partition.
 *
 * The balancing rule is the pure `balance`; `PartitionLeases` renews, claims and releases through
 * the store port only, so the same code runs on the embedded store and on EventStoreDB.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { StreamNotFoundError, WrongExpectedVersionError } from '../../store/errors.js';
import type { EventStore } from '../../store/port.js';

export const PARTITION_TABLE_PREFIX = 'cadenza-partitions-';
export const PARTITION_TABLE = 'PartitionTable';
export const DEFAULT_PARTITIONS = 16;
export const DEFAULT_LEASE_TTL_MS = 10_000;
/** The table key of a runtime that hosts no named definitions (it drives every workflow it sees). */
export const ALL_DEFINITIONS = '*';
/** Tables kept readable; only the last one is ever read. */
const TABLE_MAX_COUNT = 16;

/** FNV-1a (32 bits) of a workflow id: cheap, stable across processes and versions. */
export function workflowHash(workflowId: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < workflowId.length; i++) {
    hash ^= workflowId.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

export function partitionOf(workflowId: string, partitions: number): number {
  return workflowHash(workflowId) % partitions;
}

export interface Member {
  /** Epoch ms, by the member's own clock: it acts until a margin before, others claim after a grace. */
  readonly until: number;
  /** A short-lived tool: takes only partitions no live worker wants, and yields them to one. */
  readonly guest?: true;
}

export interface PartitionTable {
  readonly partitions: number;
  readonly members: Readonly<Record<string, Member>>;
  /** Owner of each partition by index; null: free. */
  readonly owners: readonly (string | null)[];
}

export interface BalanceOptions {
  readonly me: string;
  readonly now: number;
  readonly ttlMs: number;
  /** How long past a member's expiry its partitions stay its (clock skew between hosts). */
  readonly graceMs: number;
  readonly guest?: boolean;
  /** Leave the table: release every partition and the membership (drain, stop). */
  readonly leave?: boolean;
}

/**
 * The next table from `me`'s point of view: renew `me`, drop members past expiry + grace (their
 * partitions become free), release what `me` holds beyond its fair share ceil(P / workers), claim
 * free partitions up to it. A guest's share is everything while no worker is live, else nothing.
 */
export function balance(table: PartitionTable | undefined, partitions: number, options: BalanceOptions): PartitionTable {
  const { me, now } = options;
  const count = table?.partitions ?? partitions;
  const members: Record<string, Member> = {};
  for (const [id, member] of Object.entries(table?.members ?? {})) {
    if (id !== me && member.until + options.graceMs > now) members[id] = member;
  }
  if (!options.leave) members[me] = options.guest ? { until: now + options.ttlMs, guest: true } : { until: now + options.ttlMs };
  const owners = Array.from({ length: count }, (_, i) => {
    const owner = table?.owners[i] ?? null;
    return owner !== null && members[owner] !== undefined ? owner : null;
  });
  if (options.leave) return { partitions: count, members, owners };
  const workers = Object.values(members).filter((member) => !member.guest).length;
  const share = options.guest ? (workers > 0 ? 0 : count) : Math.ceil(count / workers);
  const mine = owners.flatMap((owner, i) => (owner === me ? [i] : []));
  // Release from the highest index down, claim from the lowest up: runtimes converge on blocks.
  for (let i = mine.length - 1; i >= share; i--) owners[mine[i] as number] = null;
  let held = Math.min(mine.length, share);
  for (let i = 0; i < count && held < share; i++) {
    if (owners[i] !== null) continue;
    owners[i] = me;
    held++;
  }
  // A guest also yields whatever a worker may want (it holds nothing once one is live).
  return { partitions: count, members, owners };
}

/** The partitions `me` owns in a table. */
export function ownedBy(table: PartitionTable, me: string): Set<number> {
  const owned = new Set<number>();
  table.owners.forEach((owner, i) => {
    if (owner === me) owned.add(i);
  });
  return owned;
}

export function partitionTableStream(tableKey: string): string {
  return `${PARTITION_TABLE_PREFIX}${createHash('sha256').update(tableKey).digest('hex').slice(0, 32)}`;
}

export interface PartitionLeasesOptions {
  readonly store: EventStore;
  readonly log: Logger;
  readonly runtimeId: string;
  /** One table per key: the hosted `name@version`s, or ALL_DEFINITIONS. */
  readonly tableKeys: readonly string[];
  /** Partitions of a new table (an existing table keeps its own count). */
  readonly partitions: number;
  readonly ttlMs: number;
  readonly guest: boolean;
  readonly now: () => number;
  /** Called after each successful append that changed what this runtime owns. */
  readonly changed: (tableKey: string, gained: readonly number[], lost: readonly number[]) => void;
  /** Called after each successful renewal of a table, once its validity is extended (and `changed` has run). */
  readonly renewed?: (tableKey: string) => void;
}

interface Lease {
  readonly key: string;
  readonly stream: string;
  partitions: number;
  owned: Set<number>;
  /** Act on the owned partitions only before this (own clock): lease expiry minus a margin. */
  validUntil: number;
}

/** The leases a runtime holds, renewed every TTL/3 while it runs. */
export class PartitionLeases {
  readonly #options: PartitionLeasesOptions;
  readonly #leases: Lease[];
  readonly #byKey = new Map<string, Lease>();
  #timer: ReturnType<typeof setInterval> | undefined;
  #renewing: Promise<void> = Promise.resolve();
  #stopped = false;

  constructor(options: PartitionLeasesOptions) {
    this.#options = options;
    this.#leases = options.tableKeys.map((key) => ({ key, stream: partitionTableStream(key), partitions: options.partitions, owned: new Set<number>(), validUntil: 0 }));
    for (const lease of this.#leases) this.#byKey.set(lease.key, lease);
  }

  /** Renew every TTL/3 from now on (the runtime's first renewal is its own `renew()`, before its catch-up). */
  renewEvery(): void {
    if (this.#timer === undefined) this.#schedule();
  }

  /** This runtime keeps the partition's workflows in memory and follows their events. */
  follows(tableKey: string, workflowId: string): boolean {
    const lease = this.#byKey.get(tableKey);
    return lease !== undefined && lease.owned.has(partitionOf(workflowId, lease.partitions));
  }

  /** This runtime may act on the workflow now: it owns its partition and the lease is valid by its clock. */
  drives(tableKey: string, workflowId: string): boolean {
    const lease = this.#byKey.get(tableKey);
    return lease !== undefined && lease.owned.has(partitionOf(workflowId, lease.partitions)) && this.#options.now() < lease.validUntil;
  }

  /** Some table of this runtime owns the workflow's partition (the subscription's skip: no decoding needed). */
  followsAny(workflowId: string): boolean {
    const hash = workflowHash(workflowId);
    for (const lease of this.#leases) if (lease.owned.has(hash % lease.partitions)) return true;
    return false;
  }

  partitionOf(tableKey: string, workflowId: string): number | undefined {
    const lease = this.#byKey.get(tableKey);
    return lease === undefined ? undefined : partitionOf(workflowId, lease.partitions);
  }

  /** Owned partitions per table key. */
  owned(): Map<string, readonly number[]> {
    return new Map(this.#leases.map((lease) => [lease.key, [...lease.owned].sort((a, b) => a - b)]));
  }

  /** Renew every table once (also claims and releases); serialised. */
  renew(leave = false): Promise<void> {
    this.#renewing = this.#renewing.then(() => this.#renewAll(leave));
    return this.#renewing;
  }

  /** Stop renewing and leave every table: the partitions are free for the others at once. */
  async leave(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearInterval(this.#timer);
    await this.renew(true).catch((error: unknown) => this.#options.log.warn({ err: error }, 'cannot release the partitions; they expire'));
  }

  #schedule(): void {
    if (this.#stopped) return;
    // An interval, not a timer set again after each renewal: a renewal awaiting a client whose
    // socket is unref'd (EventStoreDB's) would otherwise leave nothing to keep the process alive.
    // Not unref'd either: a live runtime keeps its process alive until stopped, also while it holds
    // no partition and waits for a dead runtime's lease to run out. Renewals never overlap (renew()).
    let renewing = false;
    this.#timer = setInterval(() => {
      if (renewing) return;
      renewing = true;
      void this.renew().finally(() => (renewing = false));
    }, Math.max(10, Math.floor(this.#options.ttlMs / 3)));
  }

  async #renewAll(leave: boolean): Promise<void> {
    for (const lease of this.#leases) {
      try {
        await this.#renewOne(lease, leave);
      } catch (error) {
        this.#options.log.warn({ err: error, table: lease.key }, 'cannot renew the partition lease; it runs out unless a later renewal succeeds');
      }
    }
  }

  async #renewOne(lease: Lease, leave: boolean): Promise<void> {
    const { store, now, ttlMs, runtimeId } = this.#options;
    // A lease that ran out (renewals failed, or the process stalled) is lost here, whatever the
    // table says: the workflows are dropped and, if the table still names us, taken over again.
    if (lease.owned.size > 0 && now() >= lease.validUntil) this.#apply(lease, new Set());
    for (let attempt = 0; attempt < 10; attempt++) {
      const { table, revision } = await readTable(store, lease.stream);
      if (table && table.partitions !== this.#options.partitions && lease.partitions !== table.partitions) {
        this.#options.log.info({ table: lease.key, stored: table.partitions, configured: this.#options.partitions }, 'the store\'s partition count differs from the configured one; using the stored count');
      }
      const computedAt = now();
      const next = balance(table, lease.partitions, { me: runtimeId, now: computedAt, ttlMs, graceMs: graceOf(ttlMs), guest: this.#options.guest, leave });
      const nextOwned = ownedBy(next, runtimeId);
      // Releasing: stop acting first, then append the release.
      const kept = new Set([...lease.owned].filter((partition) => nextOwned.has(partition)));
      if (kept.size < lease.owned.size) this.#apply(lease, kept, next.partitions);
      try {
        await store.append(lease.stream, [{ id: randomUUID(), type: PARTITION_TABLE, data: toData(next) }], { expectedRevision: revision ?? 'no_stream' });
      } catch (error) {
        if (error instanceof WrongExpectedVersionError) continue; // another runtime renewed: re-read, recompute
        throw error;
      }
      if (revision === undefined) await store.setStreamMetadata(lease.stream, { maxCount: TABLE_MAX_COUNT }).catch(() => undefined);
      lease.validUntil = computedAt + ttlMs - marginOf(ttlMs);
      this.#apply(lease, nextOwned, next.partitions);
      this.#options.renewed?.(lease.key);
      return;
    }
    throw new Error(`the partition table ${lease.stream} kept changing under 10 renewals in a row`);
  }

  #apply(lease: Lease, owned: Set<number>, partitions = lease.partitions): void {
    const gained = [...owned].filter((partition) => !lease.owned.has(partition));
    const lost = [...lease.owned].filter((partition) => !owned.has(partition));
    lease.owned = owned;
    lease.partitions = partitions;
    if (gained.length > 0 || lost.length > 0) this.#options.changed(lease.key, gained, lost);
  }
}

/** Others claim a member's partitions this long after its expiry (clock skew between hosts). */
export function graceOf(ttlMs: number): number {
  return Math.ceil(ttlMs / 5);
}

/** A member stops acting this long before its expiry (a slow renewal, a paused process). */
function marginOf(ttlMs: number): number {
  return Math.ceil(ttlMs / 10);
}

function toData(table: PartitionTable): { partitions: number; members: Record<string, { until: number; guest?: true }>; owners: (string | null)[] } {
  return { partitions: table.partitions, members: { ...table.members }, owners: [...table.owners] };
}

/** The last table and its revision; none when the stream does not exist yet. */
export async function readTable(store: EventStore, stream: string): Promise<{ table: PartitionTable | undefined; revision: bigint | undefined }> {
  try {
    for await (const event of store.readStream(stream, { direction: 'backwards', fromRevision: 'end', maxCount: 1 })) {
      return { table: parseTable(event.data), revision: event.revision };
    }
  } catch (error) {
    if (!(error instanceof StreamNotFoundError)) throw error;
  }
  return { table: undefined, revision: undefined };
}

function parseTable(data: unknown): PartitionTable | undefined {
  const { partitions, members, owners } = (data ?? {}) as { partitions?: unknown; members?: unknown; owners?: unknown };
  if (typeof partitions !== 'number' || !Number.isInteger(partitions) || partitions < 1) return undefined;
  if (!Array.isArray(owners) || owners.length !== partitions || !owners.every((owner) => owner === null || typeof owner === 'string')) return undefined;
  if (typeof members !== 'object' || members === null) return undefined;
  const parsed: Record<string, Member> = {};
  for (const [id, member] of Object.entries(members as Record<string, unknown>)) {
    const { until, guest } = (member ?? {}) as { until?: unknown; guest?: unknown };
    if (typeof until === 'number') parsed[id] = guest === true ? { until, guest: true } : { until };
  }
  return { partitions, members: parsed, owners: owners as (string | null)[] };
}
