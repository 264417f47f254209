// Headless Chromium (Debian `chromium`, driven by playwright-core) for the Slack stand-in's web page.
import { mkdir } from 'node:fs/promises';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';
import { startSlackMedic, type SlackMedic } from './slack.js';

// A closed network: no first-run, sync, update or metrics traffic; no sandbox as root in CI.
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-dev-shm-usage',
  '--no-first-run',
  '--no-default-browser-check',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-default-apps',
  '--disable-extensions',
  '--metrics-recording-only',
];

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS, headless: true });
}

export interface SlackMedicInBrowser {
  /** Available inside tests (after beforeAll). */
  readonly m: SlackMedic;
  readonly browser: Browser;
}

/** A Slack medic (stand-in + medic + demo service) and Chromium for one test file; screenshots go
 * to outDir. `options` is read in beforeAll (after the file's own earlier beforeAll hooks). */
export function useSlackMedicInBrowser(outDir: string, options?: () => Parameters<typeof startSlackMedic>[0]): SlackMedicInBrowser {
  let m: SlackMedic | undefined;
  let browser: Browser | undefined;
  beforeAll(async () => {
    m = await startSlackMedic(options?.());
    browser = await launchChromium();
    await mkdir(outDir, { recursive: true });
  });
  afterAll(async () => {
    await browser?.close();
    await m?.stop();
  });
  const started = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error('useSlackMedicInBrowser: not started (used outside a test, or beforeAll failed)');
    return value;
  };
  return {
    get m() {
      return started(m);
    },
    get browser() {
      return started(browser);
    },
  };
}
