/** Runs test/store/fixtures/store-worker.ts in a child process (node + tsx). */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const worker = fileURLToPath(new URL('./fixtures/store-worker.ts', import.meta.url));
const root = fileURLToPath(new URL('../..', import.meta.url));

export function startWorker(...args: string[]): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', worker, ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Resolves when the child exits with code 0; rejects with its stderr otherwise. */
export function finished(child: ChildProcess): Promise<void> {
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code, signal) => (code === 0 ? resolve() : reject(new Error(`worker exited with ${code ?? signal}: ${stderr}`))));
  });
}
