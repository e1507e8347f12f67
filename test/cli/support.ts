/**
 * Running the `cadenza` command as a user does: a child process, its exit code, stdout and stderr.
 * `inPrivateMount` runs a shell script in its own mount namespace, where a test can mount a tiny or
 * read-only tmpfs: a real full disk or read-only folder that exists only for that process tree and
 * vanishes with it, so a failed test leaves nothing mounted.
 */
import { spawn, type SpawnOptions } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const bin = fileURLToPath(new URL('../../src/cli/bin.js', import.meta.url));

export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** `cadenza ...args` with no CADENZA_STORE inherited. */
export function cadenza(...args: string[]): Promise<CliResult> {
  return collect(spawn(process.execPath, [bin, ...args], { env: { ...process.env, CADENZA_STORE: '' } }));
}

export function collect(child: ReturnType<typeof spawn>): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/**
 * `sh -c script` in a private mount namespace, with `$NODE` and `$CADENZA` set to run the CLI. As
 * root, `unshare --mount`; otherwise a user namespace maps the caller to root inside it.
 */
export async function inPrivateMount(script: string, options: SpawnOptions = {}): Promise<CliResult> {
  const namespace = process.getuid?.() === 0 ? ['--mount'] : ['--user', '--map-root-user', '--mount'];
  const result = await collect(spawn('unshare', [...namespace, 'sh', '-c', script], {
    ...options,
    env: { ...process.env, CADENZA_STORE: '', NODE: process.execPath, CADENZA: bin, ...options.env },
  }));
  if (/unshare: |mount: /.test(result.stderr)) {
    throw new Error(`This test needs a private mount namespace (util-linux unshare and tmpfs mounts): ${result.stderr.trim()}`);
  }
  return result;
}

