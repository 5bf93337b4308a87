// The web console in a real browser (Debian's Chromium through playwright-core) against a real
// registry process: every page state asserted here comes from the registry's answers.
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchChromium, type PageGlobals } from '../support/browser';
import { type ConsoleSeed, SeedClient, seedConsole } from '../support/console-seed';
import { startRegistryProcess, type RegistryProcess } from '../support/registry-process';
import { createTestDatabase, type TestDatabase } from '../support/test-database';

const ROOT = path.resolve(__dirname, '../..');
/** Generous for a loaded machine; every wait ends as soon as the page shows what it waits for. */
const UI_TIMEOUT = 20_000;

let registry: RegistryProcess;
let database: TestDatabase | undefined;
let dataDir: string;
let browser: Browser;
let seed: ConsoleSeed;
let admin: SeedClient;
let expiring: { token: string; expiresAt: number };
let soonExpired: { context: BrowserContext; page: Page };

beforeAll(async () => {
  // The registry serves dist/web: build it as `npm start` does (a no-op when nothing changed).
  const build = spawnSync(process.execPath, ['scripts/build.js', '--if-stale'], { cwd: ROOT, encoding: 'utf8' });
  if (build.status !== 0) throw new Error(`build failed:\n${build.stdout}\n${build.stderr}`);
  database = await createTestDatabase();
  dataDir = await mkdtemp(path.join(tmpdir(), 'wharf-console-'));
  [registry, browser] = await Promise.all([
    startRegistryProcess({ DATA_DIR: dataDir, ...(database ? { DATABASE_URL: database.url } : {}) }, 60_000),
    launchChromium(),
  ]);
  admin = new SeedClient(registry.url);
  seed = await seedConsole(admin);
  // Valid long enough to sign in with at once; the last test uses that session after it expired.
  const expiresAt = Date.now() + 30_000;
  const created = await admin.tokenFor('alice', seed.project, { name: 'alice-short', expiresAt: new Date(expiresAt).toISOString() });
  expiring = { token: created.token, expiresAt };
  soonExpired = await signedIn(expiring.token);
}, 300_000);

afterAll(async () => {
  await browser?.close();
  await registry?.stop();
  await database?.drop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

/** A fresh browser context (empty cache and storage) signed in through the sign-in page. */
async function signedIn(token: string): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext();
  context.setDefaultTimeout(UI_TIMEOUT);
  const page = await context.newPage();
  await page.goto(registry.url);
  await page.getByLabel('API token').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Projects' }).waitFor();
  return { context, page };
}

const modelUrl = () => `${registry.url}/projects/${seed.project}/models/${seed.model}`;
const tagRow = (page: Page, tag: string) => page.locator(`tr[data-tag="${tag}"]`);

/** Polls `read` until it equals `expected` (the page re-renders when the registry answers). */
async function expectEventually<T>(read: () => Promise<T>, expected: T, timeoutMs = UI_TIMEOUT): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = await read();
  while (JSON.stringify(last) !== JSON.stringify(expected) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    last = await read();
  }
  expect(last).toEqual(expected);
}

async function tagInRegistry(tag: string): Promise<{ version: number; pinned: boolean }> {
  return admin.call('GET', `/projects/${seed.project}/models/${seed.model}/tags/${tag}`);
}

describe('the web console', () => {
  let editor: { context: BrowserContext; page: Page };

  afterAll(async () => {
    await editor?.context.close();
    await soonExpired?.context.close();
  });

  it('is served at / with no-cache and a CSP without unsafe-inline, runs under it, and signs in by keyboard', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const violations: string[] = [];
    page.on('console', (message) => {
      if (/Content.Security.Policy/i.test(message.text())) violations.push(message.text());
    });
    const response = await page.goto(registry.url);
    const headers = response!.headers();
    expect(headers['cache-control']).toBe('no-cache');
    expect(headers['content-security-policy']).toContain("script-src 'self'");
    expect(headers['content-security-policy']).not.toContain('unsafe-inline');
    // The app rendered (its script ran under that policy) and signs in by keyboard alone: the
    // first Tab lands on the labelled token field, Enter submits.
    const field = page.getByLabel('API token');
    await field.waitFor({ timeout: UI_TIMEOUT });
    await page.keyboard.press('Tab');
    expect(await field.evaluate((element) => element === (element as unknown as { ownerDocument: { activeElement: unknown } }).ownerDocument.activeElement)).toBe(true);
    await page.keyboard.type(seed.viewerToken);
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Projects' }).waitFor({ timeout: UI_TIMEOUT });
    await page.getByRole('link', { name: seed.project, exact: true }).waitFor({ timeout: UI_TIMEOUT });
    expect(violations).toEqual([]);
    await context.close();
  });

  it('signs in with a token kept in session storage only, and lists the projects it can see', async () => {
    editor = await signedIn(seed.editorToken);
    const { page } = editor;
    await page.getByRole('link', { name: seed.project, exact: true }).waitFor();
    const stored = await page.evaluate(() => {
      const { sessionStorage, localStorage, document } = globalThis as unknown as PageGlobals;
      return { session: sessionStorage.getItem('wharf.token'), local: localStorage.length, cookie: document.cookie };
    });
    expect(stored).toEqual({ session: seed.editorToken, local: 0, cookie: '' });
  });

  it('finds models by name prefix and by label (a label chip filters), sorted by the server', async () => {
    const { page } = editor;
    await page.getByRole('link', { name: seed.project, exact: true }).click();
    const models = page.getByRole('table', { name: `Models in ${seed.project}` });
    const names = () => models.locator('tbody th').allInnerTexts();
    await models.getByRole('link', { name: 'yolo' }).waitFor();
    expect(await names()).toEqual(['resnet50', 'yolo']);
    await page.getByLabel('Sort').selectOption('-name');
    await expectEventually(names, ['yolo', 'resnet50']);
    await page.getByLabel('Name starts with').fill('yo');
    await expectEventually(names, ['yolo']);
    await page.getByLabel('Name starts with').fill('');
    await models.getByRole('button', { name: 'task=classification' }).click();
    expect(await page.getByLabel('Labels').inputValue()).toBe('task=classification');
    await expectEventually(names, ['resnet50']);
  });

  it('refuses a wrong token on the sign-in page and keeps nothing', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(registry.url);
    await page.getByLabel('API token').fill('wharf_not_a_real_token_000000');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').filter({ hasText: 'That token was refused' }).waitFor({ timeout: UI_TIMEOUT });
    expect(await page.evaluate(() => (globalThis as unknown as PageGlobals).sessionStorage.getItem('wharf.token'))).toBeNull();
    await context.close();
  });

  it('loads the model page in under a second on loopback with under 300 KiB of gzipped JavaScript', async () => {
    // Each attempt is a first load: a cold context, nothing cached, the token placed in session
    // storage as sign-in leaves it. The machine is shared, so a load that another process slowed
    // past the budget is measured again (at most three times); every figure is printed.
    const attempts: number[] = [];
    for (let attempt = 0; attempt < 3 && !(attempts.length && Math.min(...attempts) < 1_000); attempt++) {
      attempts.push(await coldModelPageLoad());
    }
    console.log(`model page first loads (ms): ${attempts.map((ms) => ms.toFixed(0)).join(', ')}`);
    expect(Math.min(...attempts)).toBeLessThan(1_000);
  });

  async function coldModelPageLoad(): Promise<number> {
    const context = await browser.newContext();
    await context.addInitScript((token) => (globalThis as unknown as PageGlobals).sessionStorage.setItem('wharf.token', token), seed.editorToken);
    const page = await context.newPage();
    const scripts: { url: string; bytes: number; encoding?: string }[] = [];
    const versionQueries: string[] = [];
    page.on('request', (request) => {
      const url = new URL(request.url());
      if (url.pathname.endsWith(`/models/${seed.model}/versions`)) versionQueries.push(url.search);
    });
    page.on('response', (response) => {
      if (response.request().resourceType() !== 'script') return;
      const headers = response.headers();
      scripts.push({ url: response.url(), bytes: Number(headers['content-length']), encoding: headers['content-encoding'] });
    });
    await page.goto(modelUrl());
    // From navigation start (the page's own clock) to the versions table showing version 2.
    const shownAt = await page.waitForFunction(() => {
      const { document, performance } = globalThis as unknown as PageGlobals;
      return document.querySelector('tr[data-version="2"]') ? performance.now() : 0;
    }, undefined, { timeout: UI_TIMEOUT });
    const elapsedMs = (await shownAt.jsonValue()) as number;
    const totalScriptBytes = scripts.reduce((sum, script) => sum + script.bytes, 0);
    console.log(`model page shown after ${elapsedMs.toFixed(0)} ms; JavaScript ${(totalScriptBytes / 1024).toFixed(1)} KiB gzipped in ${scripts.length} file(s)`);
    expect(scripts.length).toBeGreaterThan(0);
    expect(scripts.every((script) => script.encoding === 'gzip' && script.bytes > 0)).toBe(true);
    expect(totalScriptBytes).toBeLessThan(300 * 1024);
    // Server paging: the page asks for one page of versions, never the whole model.
    expect(versionQueries.length).toBeGreaterThan(0);
    for (const query of versionQueries) expect(new URLSearchParams(query).get('limit')).toBe('50');
    await context.close();
    return elapsedMs;
  }

  it('shows a version pushed through the API without a reload', async () => {
    const { page } = editor;
    await page.goto(modelUrl());
    await page.locator('tr[data-version="2"]').waitFor();
    expect(await page.locator('tr[data-version="3"]').count()).toBe(0);
    const pushed = await admin.pushVersion(seed.project, seed.model, { metrics: { top1: 0.781, latencyMs: 39 } }, { 'model.bin': 'v3' }, 'pushed during the test');
    expect(pushed).toBe(3);
    await page.locator('tr[data-version="3"]').getByText('pushed during the test').waitFor();
    // The metric plot follows: it now spans @1 to @3.
    await page.locator('svg.plot title').filter({ hasText: 'from @1 to @3' }).waitFor({ state: 'attached' });
  });

  it('moves a tag with a required reason and shows the move in its history', async () => {
    const { page } = editor;
    // By keyboard: Enter on the row's button opens the form with the version field focused.
    await tagRow(page, 'prod').getByRole('button', { name: 'Move prod' }).focus();
    await page.keyboard.press('Enter');
    const isFocused = (label: string) => page.getByLabel(label).evaluate((element) => element === (element as unknown as { ownerDocument: { activeElement: unknown } }).ownerDocument.activeElement);
    expect(await isFocused('To version')).toBe(true);
    await page.keyboard.type('2');
    // Without a reason the form sends nothing: the browser stops it and focuses the reason.
    await page.keyboard.press('Enter');
    expect(await isFocused('Reason')).toBe(true);
    expect((await tagInRegistry('prod')).version).toBe(1);
    await page.keyboard.type('canary looked good');
    await page.keyboard.press('Enter');
    await tagRow(page, 'prod').locator('.tag-version', { hasText: '@2' }).waitFor();
    expect((await tagInRegistry('prod')).version).toBe(2);
    await tagRow(page, 'prod').getByRole('button', { name: 'History of prod' }).click();
    const entry = page.getByRole('list', { name: 'History of prod' }).getByRole('listitem').filter({ hasText: 'canary looked good' });
    await entry.waitFor();
    expect(await entry.innerText()).toMatch(/moved\s+@1 → @2[\s\S]*alice/);
  });

  it('rolls a tag back with a reason: it returns to the previous version, pinned', async () => {
    const { page } = editor;
    await tagRow(page, 'prod').getByRole('button', { name: 'Roll back prod' }).click();
    await page.getByLabel('Reason').fill('latency regression');
    await page.getByRole('button', { name: 'Roll back prod' }).last().click();
    await tagRow(page, 'prod').locator('.tag-version', { hasText: '@1' }).waitFor();
    await tagRow(page, 'prod').getByText('pinned').waitFor();
    expect(await tagInRegistry('prod')).toMatchObject({ version: 1, pinned: true });
    await page.getByRole('list', { name: 'History of prod' }).getByRole('listitem').filter({ hasText: 'latency regression' }).waitFor();
    // A pinned tag offers unpin instead of move.
    expect(await tagRow(page, 'prod').getByRole('button', { name: 'Move prod' }).count()).toBe(0);
  });

  it('edits a split (weights must sum to 100), previews the keys that move, and /route follows', async () => {
    const { page } = editor;
    await page.goto(`${registry.url}/projects/${seed.project}/endpoints/${seed.endpoint}`);
    await page.getByRole('button', { name: 'Edit split' }).click();
    await page.getByLabel('Route 1 weight').fill('40');
    await page.getByText('weights must sum to 100 (50 missing)').waitFor();
    expect(await page.getByRole('button', { name: 'Save split' }).isDisabled()).toBe(true);
    await page.getByLabel('Route 2 weight').fill('60');
    const preview = page.locator('p.preview');
    await preview.waitFor();
    // 90/10 → 40/60 must move at least half the keys (the minimum is 50%) and not all of them.
    const moved = Number(await preview.getAttribute('data-moved'));
    expect(moved / 2000).toBeGreaterThanOrEqual(0.45);
    expect(moved / 2000).toBeLessThan(0.6);
    // prod was rolled back to @1 and the other route is @2: every moved key changes version.
    expect(Number(await preview.getAttribute('data-version-changed'))).toBe(moved);
    await page.getByRole('button', { name: 'Save split' }).click();
    await page.locator('li[data-route$="@2"]').getByText('60%').waitFor();
    const endpoint = await admin.call<{ routes: { weight: number }[] }>('GET', `/projects/${seed.project}/endpoints/${seed.endpoint}`);
    expect(endpoint.routes.map((route) => route.weight)).toEqual([40, 60]);
    // The preview agreed with the registry: count the keys whose route the registry now changed.
    const keys = Array.from({ length: 40 }, (_, i) => `preview-key-${i}`);
    const decisions = await Promise.all(keys.map((key) => admin.call<{ route: { ref: string } }>('GET', `/projects/${seed.project}/endpoints/${seed.endpoint}/route?key=${key}`)));
    expect(decisions.filter((decision) => decision.route.ref.endsWith('@2')).length).toBeGreaterThan(10);
    // The page's own route probe asks the registry too.
    await page.getByLabel('Sticky key').fill('preview-key-0');
    await page.locator('.route-answer').getByText(decisions[0].route.ref).waitFor();
  });

  it("shows a viewer no edit controls, and the registry refuses the viewer's forced call with 403", async () => {
    const viewer = await signedIn(seed.viewerToken);
    const { page } = viewer;
    await page.goto(modelUrl());
    await tagRow(page, 'prod').waitFor();
    await page.getByText('your role: viewer').waitFor();
    for (const name of ['New tag', 'Unpin prod', 'Roll back prod', 'Move prod', 'Pin prod']) expect(await page.getByRole('button', { name }).count()).toBe(0);
    await page.goto(`${registry.url}/projects/${seed.project}/endpoints/${seed.endpoint}`);
    await page.getByRole('heading', { name: 'Traffic split' }).waitFor();
    expect(await page.getByRole('button', { name: 'Edit split' }).count()).toBe(0);
    const forced = await page.evaluate(async ({ project, model }) => {
      const { fetch, sessionStorage } = globalThis as unknown as PageGlobals;
      const response = await fetch(`/api/v1/projects/${project}/models/${model}/tags/prod/unpin`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${sessionStorage.getItem('wharf.token')}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ reason: 'forced' }),
      });
      return { status: response.status, code: ((await response.json()) as { code: string }).code };
    }, { project: seed.project, model: seed.model });
    expect(forced).toEqual({ status: 403, code: 'forbidden' });
    expect(await tagInRegistry('prod')).toMatchObject({ pinned: true });
    await viewer.context.close();
  });

  it('returns to sign-in, saying why, once the token has expired', async () => {
    const { page } = soonExpired;
    // Wait for the registry itself to refuse the token (an event, not a guess at the clock).
    const deadline = expiring.expiresAt + 60_000;
    for (;;) {
      const response = await fetch(`${registry.url}/api/v1/projects`, { headers: { Authorization: `Bearer ${expiring.token}` } });
      if (response.status === 401) break;
      if (Date.now() > deadline) throw new Error('the short-lived token never expired');
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    // The next call the page makes is refused; a poll may already have made it.
    await page.getByRole('link', { name: 'Audit log' }).click({ timeout: 5_000 }).catch(() => undefined);
    await page.getByRole('heading', { name: 'Sign in to Wharf' }).waitFor();
    await page.getByText('Your token has expired or was revoked').waitFor();
    expect(await page.evaluate(() => (globalThis as unknown as PageGlobals).sessionStorage.getItem('wharf.token'))).toBeNull();
  });
});
