/**
 * The directory of agents: one small stream naming every agent stream, so that a registry opens by
 * reading the agents' streams by name instead of scanning the whole log for them (docs/agents.md,
 * "Opening a registry"). It only ever grows: an agent is listed before its stream's first event,
 * and a deregistered agent stays listed (its stream says it is gone).
 *
 * A directory exists only once complete: it is created in one append holding every agent stream a
 * scan of the log found, and after that an agent is listed only while the directory exists. When it
 * is missing (a store written before it, or one deleted by hand), the next registry to open scans
 * the log as before and creates it, so an incomplete directory is never read.
 */
import { randomUUID } from 'node:crypto';
import { StreamDeletedError, StreamNotFoundError, WrongExpectedVersionError } from '../store/errors.js';
import type { EventStore } from '../store/port.js';

/** Not under `agent-`: the registry's subscription would take it for an agent. */
export const AGENT_DIRECTORY_STREAM = 'cadenza-agents';
const CREATED = 'AgentDirectoryCreated';
const LISTED = 'AgentListed';

/** The agent ids listed; undefined when there is no directory (then the log has to be scanned). */
export async function readAgentDirectory(store: EventStore): Promise<string[] | undefined> {
  const ids = new Set<string>();
  try {
    for await (const event of store.readStream(AGENT_DIRECTORY_STREAM)) {
      const data = (event.data ?? {}) as { agentIds?: unknown; agentId?: unknown };
      if (event.type === CREATED && Array.isArray(data.agentIds)) for (const id of data.agentIds) if (typeof id === 'string') ids.add(id);
      if (event.type === LISTED && typeof data.agentId === 'string') ids.add(data.agentId);
    }
  } catch (error) {
    if (error instanceof StreamNotFoundError || error instanceof StreamDeletedError) return undefined;
    throw error;
  }
  return [...ids];
}

/**
 * Create the directory from a scan of the log, in one append. If another registry created it
 * meanwhile, list whatever this scan found that it lacks (an agent written by a process that does
 * not keep the directory, between the two scans).
 */
export async function createAgentDirectory(store: EventStore, agentIds: readonly string[]): Promise<void> {
  try {
    await store.append(AGENT_DIRECTORY_STREAM, [{ id: randomUUID(), type: CREATED, data: { v: 1, agentIds: [...agentIds].sort() } }], { expectedRevision: 'no_stream' });
  } catch (error) {
    if (!(error instanceof WrongExpectedVersionError)) throw error;
    const listed = new Set(await readAgentDirectory(store));
    for (const agentId of agentIds) if (!listed.has(agentId)) await listAgent(store, agentId);
  }
}

/**
 * List an agent before its stream's first event. False when there is no directory to list it in:
 * the next registry to open scans the log and finds the agent there.
 */
export async function listAgent(store: EventStore, agentId: string): Promise<boolean> {
  try {
    await store.append(AGENT_DIRECTORY_STREAM, [{ id: randomUUID(), type: LISTED, data: { v: 1, agentId } }], { expectedRevision: 'stream_exists' });
    return true;
  } catch (error) {
    if (error instanceof WrongExpectedVersionError || error instanceof StreamDeletedError) return false;
    throw error;
  }
}
