/** The no-op agents as one agent module, for `cadenza agent serve` in the A2A bench: every capability a skill. */
import type { ActionHandler } from '../../src/agents/index.js';
import { noOpHandlers } from './no-op-agents.js';

const byCapability = await noOpHandlers();
const handlers: Record<string, ActionHandler> = {};
for (const actions of byCapability.values()) Object.assign(handlers, actions);

export default { name: 'no-op', skills: [...byCapability.keys()], handlers };
