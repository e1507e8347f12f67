/**
 * The dashboard in headless Chromium against a real server over a real socket, with a real engine
 * on a memory store: the live list, a compensated workflow's DAG, the replay slider, and an operator
 * retry from the page. Each page is saved as a screenshot under test-results/dashboard/.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startApiServer, type ApiServer } from '../../src/api/server.js';
import { orderFixture, type Fixture } from '../api/support.js';
import { collectPageErrors, launchBrowser, screenshot } from './browser.js';

let fixture: Fixture;
let server: ApiServer;
let browser: Browser;
let page: Page;
let pageErrors: string[];

beforeAll(async () => {
  fixture = await orderFixture();
  server = await startApiServer({ store: fixture.store, runtime: fixture.engine.runtime });
  browser = await launchBrowser();
}, 30_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
  await fixture?.close();
});

async function open(hash: string): Promise<Page> {
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  pageErrors = collectPageErrors(page);
  await page.goto(`${server.url}/#/${hash}`);
  return page;
}

afterEach(async () => {
  expect(pageErrors, 'errors in the page').toEqual([]);
  await page?.close();
});

const stepState = (p: Page, stepId: string) => p.locator(`svg.dag g.node[data-step="${stepId}"]`);

describe('the dashboard', () => {
  it('lists a workflow started after the page loaded, without a reload', async () => {
    const p = await open('workflows');
    await p.locator('table.workflows').waitFor();
    await p.evaluate(() => Object.assign(globalThis, { loadedOnce: true }));
    await fixture.engine.start('order', { amount: 5 }, { workflowId: 'live-1' });
    const row = p.locator('tr[data-workflow-id="live-1"]');
    await row.waitFor({ timeout: 10_000 });
    await expect.poll(() => row.getAttribute('data-status'), { timeout: 10_000, message: 'live-1 shown as completed' }).toBe('completed');
    expect(await p.evaluate(() => (globalThis as { loadedOnce?: boolean }).loadedOnce), 'the page was not reloaded').toBe(true);

    // The status filter: completed ones stay, others go.
    await p.locator('input[name="status"][value="compensated"]').check();
    await expect.poll(() => p.locator('tr[data-workflow-id="live-1"]').count(), { timeout: 10_000, message: 'live-1 filtered out' }).toBe(0);
    await p.locator('input[name="status"][value="completed"]').check();
    await p.locator('tr[data-workflow-id="live-1"]').waitFor({ timeout: 10_000 });
    await screenshot(p, 'workflows');
  }, 30_000);

  it("shows a compensated workflow's compensated steps in its DAG, and its attempts in the Gantt", async () => {
    await fixture.engine.start('order', { amount: 500 }, { workflowId: 'refunded-1' });
    expect((await fixture.engine.wait('refunded-1')).status).toBe('compensated');
    const p = await open('workflow/refunded-1');
    await expect.poll(() => stepState(p, 'charge').getAttribute('data-state'), { timeout: 10_000, message: 'charge drawn' }).toBe('compensated');
    expect(await stepState(p, 'ship').getAttribute('data-state')).toBe('failed');
    expect(await p.getByTestId('workflow-status').textContent()).toBe('compensated');
    // The Gantt: charge's attempt and its refund, ship's failed attempt with the agent's error.
    await expect.poll(() => p.locator('svg.gantt rect.bar').count(), { timeout: 10_000, message: 'Gantt bars' }).toBe(3);
    expect(await p.locator('svg.gantt rect.bar[data-step="charge"][data-kind="compensation"]').getAttribute('data-outcome')).toBe('succeeded');
    expect(await p.locator('table.calls tr[data-step="ship"]').textContent()).toContain('no courier');
    // The event timeline holds every event with its JSON.
    await p.locator('.timeline li[data-revision="0"] summary code').click();
    expect(await p.locator('.timeline li[data-revision="0"] pre').textContent()).toContain('"WorkflowStarted"');
    await screenshot(p, 'workflow-compensated');
  }, 30_000);

  it('replays the DAG and the data to the revision the slider is on', async () => {
    const p = await open('workflow/refunded-1');
    await expect.poll(() => stepState(p, 'charge').getAttribute('data-state'), { timeout: 10_000, message: 'charge drawn at the head' }).toBe('compensated');
    expect(await p.getByTestId('workflow-data').textContent()).toContain('paymentId');

    await p.locator('input#replay').fill('0');
    await expect.poll(() => stepState(p, 'charge').getAttribute('data-state'), { timeout: 10_000, message: 'charge at revision 0' }).toBe('pending');
    expect(await stepState(p, 'ship').getAttribute('data-state')).toBe('pending');
    expect(await p.getByTestId('revision').textContent()).toBe('0');
    expect(await p.getByTestId('workflow-data').textContent()).not.toContain('paymentId');

    // Revision 1 schedules charge: running; the data has no payment yet.
    await p.locator('input#replay').fill('1');
    await expect.poll(() => stepState(p, 'charge').getAttribute('data-state'), { timeout: 10_000, message: 'charge at revision 1' }).toBe('running');
    await screenshot(p, 'workflow-replay');

    await p.getByRole('button', { name: 'back to live' }).click();
    await expect.poll(() => stepState(p, 'charge').getAttribute('data-state'), { timeout: 10_000, message: 'charge back at the head' }).toBe('compensated');
  }, 30_000);

  it('resumes a paused workflow when an operator retries it from the page', async () => {
    fixture.switches.shipFails = true;
    await fixture.engine.start('pausing-order', {}, { workflowId: 'paused-1' });
    expect((await fixture.engine.wait('paused-1', { orPaused: true })).status).toBe('paused');
    fixture.switches.shipFails = false;

    const p = await open('workflow/paused-1');
    await expect.poll(() => p.getByTestId('workflow-status').textContent(), { timeout: 10_000, message: 'paused shown' }).toBe('paused');
    expect(await stepState(p, 'ship').getAttribute('data-state')).toBe('failed');
    expect(await p.locator('button[data-command="cancel"]').isEnabled()).toBe(true);
    expect(await p.locator('button[data-command="resolve"]').isDisabled()).toBe(true);
    // dashboard.md: "disabled while the slider is not at the head".
    await p.locator('input#replay').fill('0');
    await expect.poll(() => p.locator('button[data-command="cancel"]').isDisabled(), { timeout: 10_000, message: 'cancel disabled while replaying' }).toBe(true);
    expect(await p.locator('button[data-command="retry"]').isDisabled()).toBe(true);
    await p.getByRole('button', { name: 'back to live' }).click();
    await expect.poll(() => p.locator('button[data-command="retry"]').isEnabled(), { timeout: 10_000, message: 'retry enabled back at the head' }).toBe(true);

    await p.locator('button[data-command="retry"]').click();
    // Nothing is sent before the confirmation.
    await p.getByRole('dialog').waitFor();
    await screenshot(p, 'workflow-retry-confirm');
    await p.locator('button[data-confirm="retry"]').click();
    await expect.poll(() => p.getByTestId('workflow-status').textContent(), { timeout: 10_000, message: 'paused-1 completed after the retry' }).toBe('completed');
    expect(await stepState(p, 'ship').getAttribute('data-state')).toBe('succeeded');
    expect((await fixture.engine.status('paused-1')).status).toBe('completed');
  }, 30_000);
});
