// Writes a screenshot of each console page into docs/console/ (`npm run docs:screenshots`): a
// registry on embedded defaults, seeded through its API, driven by Debian's Chromium. Run it
// after changing a page and commit the pictures with the change.
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { Page } from 'playwright-core';
import { launchChromium, type PageGlobals } from '../test/support/browser';
import { SeedClient, seedConsole } from '../test/support/console-seed';
import { startRegistryProcess } from '../test/support/registry-process';
import { ADMIN_TOKEN } from '../test/support/test-registry';

const ROOT = path.resolve(__dirname, '..');
const OUT = path.join(ROOT, 'docs', 'console');

async function seedNodes(client: SeedClient, project: string, model: string): Promise<void> {
  const gib = 1024 ** 3;
  const nodes = [
    { name: 'gpu-a100-1', labels: { gpu: 'a100' }, entries: [{ version: 1, state: 'ready', done: 1 }, { version: 2, state: 'pulling', done: 0.4 }] },
    { name: 'gpu-a100-2', labels: { gpu: 'a100' }, entries: [{ version: 1, state: 'ready', done: 1 }, { version: 2, state: 'ready', done: 1 }] },
    { name: 'cpu-1', labels: { pool: 'cpu' }, entries: [{ version: 1, state: 'evicting', done: 1 }] },
  ];
  for (const node of nodes) {
    await client.call('PUT', `/nodes/${node.name}`, {
      labels: node.labels,
      capacityBytes: 500 * gib,
      budgetBytes: 200 * gib,
      usedBytes: node.entries.length * 40 * gib,
      agentVersion: '0.1.0',
      entries: node.entries.map((entry) => ({ project, model, version: entry.version, state: entry.state, bytesDone: Math.round(entry.done * 40 * gib), bytesTotal: 40 * gib })),
      demands: [],
    });
  }
  await client.call('POST', `/projects/${project}/warmups`, { model, ref: 'prod', selector: { matchLabels: { gpu: 'a100' } } });
}

async function shoot(page: Page, name: string, url: string, ready: (page: Page) => Promise<unknown>): Promise<void> {
  await page.goto(url);
  await ready(page);
  await page.screenshot({ path: path.join(OUT, `${name}.png`), fullPage: true });
  console.log(`docs/console/${name}.png`);
}

async function main(): Promise<void> {
  const build = spawnSync(process.execPath, ['scripts/build.js', '--if-stale'], { cwd: ROOT, stdio: 'inherit' });
  if (build.status !== 0) throw new Error('build failed');
  await mkdir(OUT, { recursive: true });
  const dataDir = await mkdtemp(path.join(tmpdir(), 'wharf-screenshots-'));
  const registry = await startRegistryProcess({ DATA_DIR: dataDir }, 120_000);
  const browser = await launchChromium();
  try {
    const client = new SeedClient(registry.url);
    const seed = await seedConsole(client);
    const { project, model } = seed;
    await client.pushVersion(project, model, { framework: 'pytorch', metrics: { top1: 0.781, latencyMs: 39 } }, { 'model.bin': 'v3' }, 'training run 3');
    await client.call('PUT', `/projects/${project}/models/${model}/tags/prod`, { version: 2, reason: 'canary looked good' });
    await client.call('PUT', `/projects/${project}/models/${model}/tags/staging`, { version: 3, reason: 'nightly' });
    await seedNodes(client, project, model);

    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    const base = registry.url;
    await shoot(page, 'sign-in', base, (p) => p.getByLabel('API token').waitFor());
    await page.evaluate((token) => (globalThis as unknown as PageGlobals).sessionStorage.setItem('wharf.token', token), ADMIN_TOKEN);
    await shoot(page, 'projects', base, (p) => p.getByRole('link', { name: project, exact: true }).waitFor());
    await shoot(page, 'models', `${base}/projects/${project}`, (p) => p.getByRole('link', { name: model }).waitFor());
    await shoot(page, 'model', `${base}/projects/${project}/models/${model}`, async (p) => {
      await p.locator('tr[data-version="3"]').waitFor();
      await p.getByRole('checkbox', { name: 'Compare version 1' }).check();
      await p.getByRole('checkbox', { name: 'Compare version 3' }).check();
      await p.locator('tr[data-tag="prod"]').getByRole('button', { name: 'History of prod' }).click();
      await p.getByRole('list', { name: 'History of prod' }).getByText('canary looked good').waitFor();
      await p.getByRole('button', { name: 'Files of version 3' }).click();
      await p.getByText('model.bin').waitFor();
    });
    await shoot(page, 'endpoint', `${base}/projects/${project}/endpoints/${seed.endpoint}`, async (p) => {
      await p.getByRole('button', { name: 'Edit split' }).click();
      await p.getByLabel('Route 1 weight').fill('80');
      await p.getByLabel('Route 2 weight').fill('20');
      await p.locator('p.preview').waitFor();
    });
    await shoot(page, 'nodes', `${base}/nodes`, (p) => p.getByText('gpu-a100-2').first().waitFor());
    await shoot(page, 'audit', `${base}/audit`, (p) => p.locator('table.audit tbody tr td code').first().waitFor());
  } finally {
    await browser.close();
    await registry.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
