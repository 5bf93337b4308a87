import { type Browser, chromium } from 'playwright-core';
import { existsSync } from 'node:fs';

/** Debian's Chromium (package `chromium`); Playwright's own browser download is not used. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: apt-get install chromium (or set CHROMIUM_PATH)`);
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    // As root (CI) Chromium refuses its sandbox; /dev/shm is small in containers.
    args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu'],
    timeout: 60_000,
  });
}

/**
 * What callbacks passed to page.evaluate use of the page. They run in the browser, but the root
 * tsconfig has no DOM library (the registry must not compile against one): cast globalThis to this.
 */
export interface PageGlobals {
  sessionStorage: { getItem(key: string): string | null; setItem(key: string, value: string): void };
  localStorage: { length: number };
  document: { cookie: string; querySelector(selector: string): unknown };
  performance: { now(): number };
  fetch: typeof fetch;
}
