/**
 * docs/dashboard.md, "With a token" and "How it is built", held to what headless Chromium does over
 * a real socket: the token goes as `Authorization: Bearer` on every API request and never into a
 * URL, live events are read with fetch (not EventSource), nothing is loaded from another origin, and
 * a page that lost its server reconnects with the last event id it saw, so it misses nothing.
 */
import type { Browser, Page, Request } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApiServer, type ApiServer } from '../../src/api/server.js';
import { positionText } from '../../src/api/json.js';
import { appendStart } from '../../src/saga/stream/index.js';
import { openStore } from '../../src/store/open.js';
import type { RecordedEvent } from '../../src/store/port.js';
import { order, orderFixture, type Fixture } from '../api/support.js';
import { populate } from '../projections/fixtures/populate.js';
import { collectPageErrors, launchBrowser } from './browser.js';

const token = 'dashboard-claims-token-0123456789';
let fixture: Fixture;
let server: ApiServer;
let browser: Browser;
let page: Page;
let pageErrors: string[];
const requests: Request[] = [];

beforeAll(async () => {
  fixture = await orderFixture();
  await fixture.engine.start('order', { amount: 5 }, { workflowId: 'ok-1' });
  await fixture.engine.wait('ok-1');
  server = await startApiServer({ store: fixture.store, runtime: fixture.engine.runtime, token });
  browser = await launchBrowser();
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  pageErrors = collectPageErrors(page);
  page.on('request', (request) => requests.push(request));
}, 30_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
  await fixture?.close();
});

const eventRequests = () => requests.filter((r) => new URL(r.url()).pathname === '/api/v1/events');

async function positionsOf(workflowId: string): Promise<string[]> {
  const events: RecordedEvent[] = [];
  for await (const event of fixture.store.readStream(`workflow-${workflowId}`)) events.push(event);
  return events.map((event) => positionText(event.position));
}

describe('docs/dashboard.md: the token and live events', () => {
  it('sends the token as a bearer header on every API request, never in a URL, and loads nothing from elsewhere', async () => {
    await page.goto(`${server.url}/#/workflows`);
    await page.locator('form.token input[name="token"]').fill(token);
    await page.locator('form.token button[type="submit"]').click();
    await page.locator('tr[data-workflow-id="ok-1"]').waitFor({ timeout: 10_000 });
    await page.goto(`${server.url}/#/workflow/ok-1`);
    await page.getByTestId('workflow-status').waitFor({ timeout: 10_000 });
    await expect.poll(() => page.getByTestId('workflow-status').textContent(), { timeout: 10_000, message: 'ok-1 shown' }).toBe('completed');

    const origin = new URL(server.url).origin;
    expect(requests.length).toBeGreaterThan(10);
    // "nothing comes from a CDN": every module, style and call goes to the server itself.
    expect(requests.map((r) => new URL(r.url()).origin).filter((o) => o !== origin)).toEqual([]);
    expect(requests.filter((r) => r.url().includes(token))).toEqual([]);
    // Once the page has the token, every API request carries it (before, each is a 401 that asks for it).
    const api = requests.filter((r) => new URL(r.url()).pathname.startsWith('/api/v1/'));
    const withToken = api.filter((r) => r.headers().authorization === `Bearer ${token}`);
    const firstWith = api.indexOf(withToken[0]!);
    expect(firstWith).toBeGreaterThanOrEqual(0);
    expect(api.slice(firstWith).filter((r) => r.headers().authorization !== `Bearer ${token}`).map((r) => r.url())).toEqual([]);
    // Live events are a fetch (EventSource cannot send the header), with it.
    const live = eventRequests().filter((r) => r.headers().authorization === `Bearer ${token}`);
    expect(live.length).toBeGreaterThan(0);
    expect(live.map((r) => r.resourceType())).toEqual(live.map(() => 'fetch'));
    // "the 150 events either side of the revision shown": the timeline asks for no more than that.
    const timeline = api.filter((r) => new URL(r.url()).pathname === '/api/v1/workflows/ok-1/history').map((r) => Object.fromEntries(new URL(r.url()).searchParams));
    expect(timeline.length).toBeGreaterThan(0);
    for (const query of timeline) expect(query).toEqual({ fromRevision: '0', limit: '301' });
    expect(pageErrors.filter((e) => !e.includes('status of 401'))).toEqual([]);
  }, 30_000);

  it('reconnects after losing its server with the last event id it saw as Last-Event-ID, and shows what happened meanwhile', async () => {
    await page.goto(`${server.url}/#/workflows`);
    await page.locator('tr[data-workflow-id="ok-1"]').waitFor({ timeout: 10_000 });
    // A workflow the page follows live: the last event it got before losing the server is one of its.
    await fixture.engine.start('order', { amount: 6 }, { workflowId: 'live-1' });
    await fixture.engine.wait('live-1');
    await expect.poll(() => page.locator('tr[data-workflow-id="live-1"]').getAttribute('data-status'), { timeout: 10_000, message: 'live-1 shown completed' }).toBe('completed');
    const live = await positionsOf('live-1');

    // The server goes away (its event streams end with it); a workflow runs meanwhile; it comes back on the same port.
    const port = Number(new URL(server.url).port);
    await server.close();
    const before = eventRequests().length;
    await fixture.engine.start('order', { amount: 7 }, { workflowId: 'while-away' });
    await fixture.engine.wait('while-away');
    server = await startApiServer({ store: fixture.store, runtime: fixture.engine.runtime, token, port });

    await expect.poll(() => page.locator('tr[data-workflow-id="while-away"]').getAttribute('data-status'), { timeout: 15_000, message: 'the workflow run while the server was away shown' }).toBe('completed');
    const reconnects = eventRequests().slice(before);
    expect(reconnects.length).toBeGreaterThan(0);
    for (const request of reconnects) {
      expect(live).toContain(request.headers()['last-event-id']);
      expect(request.headers().authorization).toBe(`Bearer ${token}`);
    }
  }, 45_000);
});

describe('docs/dashboard.md: the workflows list', () => {
  it('shows a queued workflow in the backlog with its priority when not 0, and filters by queued', async () => {
    // A store no runtime drives (as under `cadenza serve`): starts stored queued stay queued.
    const store = await openStore('memory:');
    await appendStart(store, 'urgent-1', order, { amount: 1 }, { priority: 5 });
    await appendStart(store, 'plain-1', order, { amount: 2 });
    await populate(store, { workflows: 3, seed: 9 });
    const plain = await startApiServer({ store });
    try {
      await page.goto(`${plain.url}/#/workflows`);
      const urgent = page.locator('tr[data-workflow-id="urgent-1"]');
      await urgent.waitFor({ timeout: 10_000 });
      expect(await urgent.getAttribute('data-status')).toBe('queued');
      expect(await urgent.textContent()).toContain('priority 5');
      const unranked = page.locator('tr[data-workflow-id="plain-1"]');
      expect(await unranked.getAttribute('data-status')).toBe('queued');
      expect(await unranked.textContent()).not.toContain('priority');
      const shown = () => page.locator('tr[data-workflow-id]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-workflow-id')).sort());
      expect((await shown()).length).toBe(5);
      await page.locator('input[name="status"][value="queued"]').check();
      await expect.poll(shown, { timeout: 10_000, message: 'only the queued workflows listed' }).toEqual(['plain-1', 'urgent-1']);
    } finally {
      await plain.close();
      await store.close();
    }
  }, 30_000);
});
