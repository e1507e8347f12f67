/** Temporary store files for the sqlite tests. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function tempStoreFile(): { readonly path: string; readonly remove: () => Promise<void> } {
  const directory = mkdtempSync(join(tmpdir(), 'cadenza-store-'));
  return { path: join(directory, 'events.db'), remove: async () => rmSync(directory, { recursive: true, force: true }) };
}
