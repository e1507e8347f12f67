/**
 * `cadenza --store <storeUri> ...args` run in this process through `main`: no child process (faster,
 * and the test can hold the same store open), stdout and stderr captured.
 */
import { vi } from 'vitest';
import { main } from '../../src/cli/main.js';

export interface InProcessResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export async function cadenzaInProcess(storeUri: string, ...args: string[]): Promise<InProcessResult> {
  let stdout = '';
  let stderr = '';
  const out = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => ((stdout += String(chunk)), true));
  const err = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => ((stderr += String(chunk)), true));
  try {
    return { code: await main(['node', 'cadenza', '--store', storeUri, ...args]), stdout, stderr };
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
}
