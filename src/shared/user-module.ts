/**
 * Importing a user's module by path (a worker config, an agent module): `.mjs`/`.js` as they are,
 * `.ts` through tsx (a dependency), since the installed command runs compiled JavaScript under
 * plain node, where a `.ts` file would not load by itself. Errors are one line, naming the file.
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

export class UserModuleError extends Error {
  constructor(readonly file: string, reason: string) {
    super(`${file}: ${reason}`);
    this.name = 'UserModuleError';
  }
}

export async function importUserModule(file: string): Promise<{ default?: unknown } & Record<string, unknown>> {
  const path = resolve(file);
  try {
    if (/\.[cm]?ts$/.test(path)) (await import('tsx/esm/api')).register();
    return (await import(pathToFileURL(path).href)) as { default?: unknown } & Record<string, unknown>;
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === 'ERR_MODULE_NOT_FOUND' && (error as Error).message.includes(path)) throw new UserModuleError(file, 'no such file');
    throw new UserModuleError(file, `cannot be loaded: ${((error instanceof Error ? error.message : String(error)).split('\n')[0] ?? '')}`);
  }
}
