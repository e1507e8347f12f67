/**
 * Which process runs a group, when several processes open one store file. A group's dispatching
 * (buffer, in-flight events, retries) lives in memory, so it must run in one process at a time: the
 * process that holds the group's lease. It renews the lease while the group runs and releases it when
 * the group's last consumer leaves; a process that dies stops renewing, and after `ttlMs` another
 * process takes the group over from its checkpoint (what the dead one had not acked is sent again).
 * Consumers in the other processes wait for the lease meanwhile: this is active/standby per group,
 * not competing consumers across processes (for that, serve the file with `cadenza store serve` and
 * connect every consumer to it: docs/store.md).
 */
export interface GroupLeases {
  /** Take the lease of `group` for `owner` (or renew it): true when `owner` holds it for the next `ttlMs`. */
  acquire(group: string, owner: string, ttlMs: number): boolean;
  /** Give it up, if `owner` holds it. */
  release(group: string, owner: string): void;
}
