/**
 * Headless Chromium for the explorer's browser tests and benchmark: Debian's `chromium` driven by
 * playwright-core (which downloads no browser of its own), in a fresh profile each time, with the
 * background networking that would reach outside the machine switched off.
 */
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";

import type { BrowserContext, Page } from "playwright-core";

export const CHROMIUM = process.env.VERITENSOR_CHROMIUM ?? "/usr/bin/chromium";
export const CHROMIUM_INSTALL = "sudo apt-get install --no-install-recommends chromium";

export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

export function haveChromium(): boolean {
  return existsSync(CHROMIUM);
}

export interface Chromium {
  readonly context: BrowserContext;
  close(): Promise<void>;
}

/** Launches Chromium with a fresh user data directory (removed on close). */
export async function launchChromium(viewport = { width: 1400, height: 900 }): Promise<Chromium> {
  const { chromium } = await import("playwright-core");
  const profile = await mkdtemp(path.join(tmpdir(), "veritensor-chromium-"));
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, viewport });
  } catch (e) {
    await rm(profile, { recursive: true, force: true });
    throw e;
  }
  return {
    context,
    close: async () => {
      await context.close().catch(() => undefined);
      await rm(profile, { recursive: true, force: true });
    },
  };
}

/**
 * Loads `url` in `page` and waits for the explorer's page to render with its data (or its 404);
 * returns the ms from navigation start to that render, as the app measured it.
 */
export async function loadPage(page: Page, url: string): Promise<{ ms: number; status: number }> {
  const response = await page.goto(url, { waitUntil: "domcontentloaded" });
  await page.waitForSelector("[data-loaded], .notfound", { timeout: 30_000 });
  // The app records the time in `window.__veritensorLoaded` (offchain/explorer/app/util.tsx).
  const ms = await page.evaluate(() => (globalThis as { __veritensorLoaded?: number }).__veritensorLoaded ?? performance.now());
  return { ms, status: response?.status() ?? 0 };
}
