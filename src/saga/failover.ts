/**
 * Which agent gets an attempt. The candidate list is ranked healthiest first and its order changes
 * as agents fail, so "attempt n goes to index n-1" could send a retry straight back to the agent that
 * just failed. Instead: the first attempt goes to the best candidate; a retry goes to the best
 * candidate other than the agent of the previous attempt, when there is one.
 */
export function pickAgent(candidates: readonly string[], previousAgentId: string | undefined): string | undefined {
  if (previousAgentId === undefined) return candidates[0];
  return candidates.find((id) => id !== previousAgentId) ?? candidates[0];
}
