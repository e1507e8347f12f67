/**
 * The browser tests' shared parts: Debian's headless Chromium driven by playwright-core (a missing
 * browser fails the suite with a message, it is never skipped), and where screenshots go.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';

/** `CHROMIUM` if set, else `chromium` on the PATH (.ci/run installs Debian's package when it is missing). */
function chromiumPath(): string {
  const given = process.env.CHROMIUM;
  if (given) {
    if (!existsSync(given)) throw new Error(`CHROMIUM=${given} does not exist`);
    return given;
  }
  try {
    return execFileSync('which', ['chromium'], { encoding: 'utf8' }).trim();
  } catch {
    throw new Error('the browser tests need Chromium: install it (apt-get install chromium) or set CHROMIUM to its path');
  }
}

export async function launchBrowser(): Promise<Browser> {
  // No sandbox: CI containers run as root, where Chromium's sandbox refuses to start.
  return chromium.launch({ executablePath: chromiumPath(), headless: true, args: ['--no-sandbox'] });
}

const screenshotDir = fileURLToPath(new URL('../../test-results/dashboard/', import.meta.url));

/** Saves the page as `test-results/dashboard/<name>.png` (gitignored), for a person to look at. */
export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(screenshotDir, { recursive: true });
  await page.screenshot({ path: `${screenshotDir}${name}.png`, fullPage: true });
}

/** Fails the test with what the page logged when a page error happens (a broken module, a failed render). */
export function collectPageErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text());
  });
  return errors;
}
