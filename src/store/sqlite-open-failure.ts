/**
 * Why a SQLite store file could not be opened, in words that name the path. SQLite says only
 * "unable to open database file" or "disk I/O error", and creating the folder says `EEXIST ... mkdir`;
 * the file system, asked after the failure, says which path is wrong and why. Only a failed open
 * pays for these checks.
 */
import { accessSync, constants, statfsSync, statSync, type Stats } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { UnavailableError } from './errors.js';

export function sqliteOpenFailure(path: string, error: unknown): UnavailableError {
  const file = resolve(path);
  return new UnavailableError(`Cannot open the SQLite store ${file}: ${reasonFor(file, error)}`, { cause: error });
}

function reasonFor(file: string, error: unknown): string {
  const existing = statOf(file);
  if (existing?.isDirectory()) return 'it is a directory, not a file';
  // The nearest ancestor that exists: if it is a file, no folder can be created below it.
  let ancestor = dirname(file);
  let stats = statOf(ancestor);
  while (!stats && dirname(ancestor) !== ancestor) {
    ancestor = dirname(ancestor);
    stats = statOf(ancestor);
  }
  if (stats && !stats.isDirectory()) return `${ancestor} is a file, not a directory`;
  if (!existing) {
    const denied = accessProblem(ancestor, constants.W_OK);
    if (denied) return `cannot create it: ${ancestor} is not writable (${denied})`;
  } else {
    const denied = accessProblem(file, constants.R_OK | constants.W_OK);
    if (denied) return `it cannot be read and written (${denied})`;
    // WAL mode keeps x.db-wal and x.db-shm beside the file: its folder must be writable too.
    const folderDenied = accessProblem(ancestor, constants.W_OK);
    if (folderDenied) return `${ancestor} is not writable (${folderDenied}), and SQLite keeps its -wal and -shm files there`;
  }
  if (noSpaceLeft(ancestor) || (error as { code?: string }).code === 'ENOSPC') return `no space left on the device that holds ${ancestor}`;
  return error instanceof Error ? error.message : String(error);
}

function statOf(path: string): Stats | undefined {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}

function accessProblem(path: string, mode: number): string | undefined {
  try {
    accessSync(path, mode);
    return undefined;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
    if (code === 'EROFS') return 'read-only file system';
    return code ?? (error as Error).message;
  }
}

function noSpaceLeft(directory: string): boolean {
  try {
    return statfsSync(directory).bavail === 0;
  } catch {
    return false;
  }
}
