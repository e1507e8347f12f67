/**
 * The dashboard behind a bearer token, in headless Chromium over a real socket: the page asks for
 * the token once and then lists and follows workflows with it; the agents, steps and audit pages
 * show the read models, the audit results download as CSV. Screenshots under test-results/dashboard/.
 */
import { readFile } from 'node:fs/promises';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApiServer, type ApiServer } from '../../src/api/server.js';
import { orderFixture, type Fixture } from '../api/support.js';
import { collectPageErrors, launchBrowser, screenshot } from './browser.js';

const token = 'dashboard-test-token-0123456789';
let fixture: Fixture;
let server: ApiServer;
let browser: Browser;
let page: Page;
let pageErrors: string[];

beforeAll(async () => {
  fixture = await orderFixture();
  for (const [id, amount] of [['ok-1', 5], ['ok-2', 7], ['refund-1', 500]] as const) {
    await fixture.engine.start('order', { amount }, { workflowId: id });
    await fixture.engine.wait(id);
  }
  server = await startApiServer({ store: fixture.store, runtime: fixture.engine.runtime, token });
  browser = await launchBrowser();
  page = await browser.newPage({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
  pageErrors = collectPageErrors(page);
}, 30_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
  await fixture?.close();
});

/** The API's 401s the page meets before it has the token are expected; anything else is a fault. */
const unexpectedErrors = () => pageErrors.filter((e) => !e.includes('status of 401'));

describe('the dashboard with a token', () => {
  it('serves the page without the token, but not the API', async () => {
    expect((await fetch(`${server.url}/`)).status).toBe(200);
    expect((await fetch(`${server.url}/dashboard/vendor/preact.mjs`)).headers.get('content-type')).toContain('javascript');
    expect((await fetch(`${server.url}/api/v1/workflows`)).status).toBe(401);
    expect((await fetch(`${server.url}/api/v1/events`)).status).toBe(401);
    expect((await fetch(`${server.url}/api/v1/workflows/ok-1/graph`)).status).toBe(401);
    // Only the allow-listed files: nothing else of node_modules or the disk.
    expect((await fetch(`${server.url}/dashboard/vendor/package.json`)).status).toBe(404);
    expect((await fetch(`${server.url}/dashboard/..%2f..%2fpackage.json`)).status).toBe(404);
  });

  it('asks for the token once, then lists and follows workflows with it', async () => {
    await page.goto(`${server.url}/#/workflows`);
    await page.locator('form.token input[name="token"]').fill(token);
    await page.locator('form.token button[type="submit"]').click();
    await page.locator('tr[data-workflow-id="refund-1"]').waitFor({ timeout: 10_000 });
    expect(await page.evaluate(() => (globalThis as unknown as { sessionStorage: { getItem(key: string): string | null } }).sessionStorage.getItem('cadenza.token'))).toBe(token);
    // Live events with the token as a header: a workflow started now appears.
    await fixture.engine.start('order', { amount: 9 }, { workflowId: 'ok-3' });
    await page.locator('tr[data-workflow-id="ok-3"]').waitFor({ timeout: 10_000 });
    expect(await page.locator('tr[data-workflow-id="refund-1"]').getAttribute('data-status')).toBe('compensated');
    expect(unexpectedErrors()).toEqual([]);
  }, 30_000);

  it('shows agents with their circuit, calls in flight and success rate', async () => {
    await page.goto(`${server.url}/#/agents`);
    const shipping = page.locator('tr[data-agent="shipping-1"]');
    await shipping.waitFor({ timeout: 10_000 });
    const text = await shipping.textContent();
    expect(text).toContain('closed');
    // ok-1, ok-2, ok-3 shipped; refund-1 did not: 3 of 4.
    expect(text).toContain('75.0%');
    expect(await page.locator('tr[data-agent="payments-1"]').textContent()).toContain('healthy');
    await screenshot(page, 'agents');
    expect(unexpectedErrors()).toEqual([]);
  }, 30_000);

  it('shows latency percentiles and failure rates per step and per agent, with charts', async () => {
    await page.goto(`${server.url}/#/steps`);
    const ship = page.locator('tr[data-key="order/ship"]');
    await ship.waitFor({ timeout: 10_000 });
    expect(await ship.textContent()).toContain('25.0%');
    await page.locator('tr[data-key="shipping-1"]').waitFor();
    expect(await page.locator('.uplot').count()).toBe(4);
    await screenshot(page, 'steps');
    expect(unexpectedErrors()).toEqual([]);
  }, 30_000);

  it('queries the audit index and downloads the results as CSV', async () => {
    await page.goto(`${server.url}/#/audit`);
    await page.locator('input[name="types"]').fill('StepFailed,WorkflowCompensated');
    await page.getByRole('button', { name: 'query' }).click();
    await page.locator('table.audit-results tbody tr').first().waitFor({ timeout: 10_000 });
    const types = await page.locator('table.audit-results tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-type')));
    expect(types).toEqual(['StepFailed', 'WorkflowCompensated']);
    await screenshot(page, 'audit');

    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('csv').click()]);
    const csv = (await readFile(await download.path(), 'utf8')).trim().split('\r\n');
    expect(csv[0]).toBe('position,time,stream,revision,type,workflowId,stepId,agentId,correlationId,causationId,eventId');
    expect(csv.slice(1).map((line) => line.split(',')[4])).toEqual(['StepFailed', 'WorkflowCompensated']);
    expect(csv[1]).toContain('workflow-refund-1');
    expect(unexpectedErrors()).toEqual([]);
  }, 30_000);
});
