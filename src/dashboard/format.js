// Shared display rules: how a step's status and compensation become one of the dashboard's step
// states (the colours of the DAG and the legend), and how times and rates are written.

/** The state a step is drawn in, from its status and its compensation's (as the API's state summary gives them). */
export function stepState(step) {
  if (!step) return 'pending';
  const comp = step.compensation;
  if (comp === 'succeeded') return 'compensated';
  if (comp === 'failed') return 'compensationFailed';
  if (comp === 'running' || comp === 'retryWaiting' || comp === 'waitingForAgent') return 'compensating';
  if (step.status === 'retryWaiting') return 'retrying';
  return step.status;
}

export const stepStates = ['pending', 'running', 'waitingForAgent', 'retrying', 'succeeded', 'failed', 'compensating', 'compensated', 'compensationFailed', 'skipped', 'abandoned'];

export const stateLabels = {
  pending: 'pending',
  running: 'running',
  waitingForAgent: 'waiting for an agent',
  retrying: 'retrying',
  succeeded: 'succeeded',
  failed: 'failed',
  compensating: 'compensating',
  compensated: 'compensated',
  compensationFailed: 'compensation failed',
  skipped: 'skipped',
  abandoned: 'abandoned',
};

export function duration(ms) {
  if (ms === undefined || ms === null) return '';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms < 3_600_000) return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
  return `${Math.floor(ms / 3_600_000)} h ${Math.round((ms % 3_600_000) / 60_000)} min`;
}

export const percent = (rate) => (rate === undefined || rate === null ? '' : `${(rate * 100).toFixed(1)}%`);

export const time = (iso) => (iso ? new Date(iso).toLocaleTimeString() : '');

export const dateTime = (iso) => (iso ? new Date(iso).toLocaleString() : '');
