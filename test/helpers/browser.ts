/// <reference lib="dom" />
/**
 * A real browser for console tests (#17): Debian's Chromium driven by playwright-core (no browser
 * download; `.ci/run` installs the package). `watchPage` records everything a page must never do
 * — open a dialog, run planted script, log an error, break its CSP — so a test can assert none
 * happened. Screenshots go to `test-artifacts/console/`, and their paths are printed.
 */
import { accessSync, constants, mkdirSync } from 'node:fs';
import path from 'node:path';

import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';

import { trackResource } from './leak-check.js';

export const ARTIFACTS_DIR = path.resolve(import.meta.dirname, '../../test-artifacts/console');

const CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'];

/** The Chromium binary: CHROMIUM_PATH, else Debian's. Fails naming the install command. */
export function findChromium(): string {
  const explicit = process.env.CHROMIUM_PATH;
  const found = [explicit, ...CANDIDATES].find((candidate) => {
    if (!candidate) return false;
    try {
      accessSync(candidate, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
  if (!found) {
    throw new Error(
      `The console's browser tests need Chromium and found none (${[explicit, ...CANDIDATES].filter(Boolean).join(', ')}). ` +
        'Install it with `apt-get install -y chromium` (what .ci/run does), or set CHROMIUM_PATH to a Chromium or Chrome binary.',
    );
  }
  return found;
}

export async function launchBrowser(): Promise<Browser> {
  const browser = await chromium.launch({ executablePath: findChromium(), headless: true });
  trackResource(
    'chromium',
    () => browser.isConnected(),
    () => browser.close(),
    'file',
  );
  return browser;
}

/** A context that answers the Basic-auth challenge like a browser that has the credentials cached. */
export function newConsoleContext(
  browser: Browser,
  baseURL: string,
  credentials: { username: string; password: string },
): Promise<BrowserContext> {
  return browser.newContext({
    baseURL,
    httpCredentials: { ...credentials, origin: baseURL },
    acceptDownloads: true,
    viewport: { width: 1400, height: 900 },
  });
}

export interface PageWatch {
  /**
   * Everything that went wrong so far: dialogs, page errors, console errors, CSP violations;
   * `allow` names console errors a test caused on purpose (a connection it cut).
   */
  problems(options?: { allow?: readonly RegExp[] }): Promise<string[]>;
}

/**
 * Records dialogs (dismissed at once), uncaught page errors, console errors and CSP violations
 * (the `securitypolicyviolation` event, hooked before any page script runs), and whether a
 * planted script ran (`window.__pwned`).
 */
export async function watchPage(page: Page): Promise<PageWatch> {
  const seen: string[] = [];
  page.on('dialog', (dialog) => {
    seen.push(`dialog ${dialog.type()}: ${dialog.message()}`);
    void dialog.dismiss().catch(() => undefined);
  });
  page.on('pageerror', (err) => seen.push(`page error: ${err.message}`));
  page.on('console', (msg) => {
    if (msg.type() === 'error' || msg.type() === 'warning') seen.push(`console ${msg.type()}: ${msg.text()}`);
  });
  await page.addInitScript(() => {
    const w = window as unknown as { __csp: string[] };
    w.__csp = [];
    document.addEventListener('securitypolicyviolation', (e) => {
      w.__csp.push(
        `${e.violatedDirective} blocked ${e.blockedURI || 'inline'} (${e.sourceFile}:${e.lineNumber})`,
      );
    });
  });
  return {
    async problems(options = {}) {
      const inPage = await page
        .evaluate(() => {
          const w = window as unknown as { __csp?: string[]; __pwned?: unknown };
          return [
            ...(w.__csp ?? []).map((v) => `CSP violation: ${v}`),
            ...(w.__pwned === undefined ? [] : ['planted script ran (window.__pwned is set)']),
          ];
        })
        .catch((e: unknown) => [`cannot read the page: ${String(e)}`]);
      const allowed = (p: string) => (options.allow ?? []).some((re) => re.test(p));
      return [...seen.filter((p) => !allowed(p)), ...inPage];
    },
  };
}

/** Saves a full-page screenshot as a test artifact and prints where. */
export async function saveScreenshot(page: Page, name: string): Promise<string> {
  mkdirSync(ARTIFACTS_DIR, { recursive: true });
  const file = path.join(ARTIFACTS_DIR, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  process.stdout.write(`screenshot: ${file}\n`);
  return file;
}

/**
 * Controls with no accessible name, from Chromium's own accessibility tree (the names a screen
 * reader announces), as `role "name"` strings.
 */
export async function unnamedControls(page: Page): Promise<string[]> {
  const cdp = await page.context().newCDPSession(page);
  try {
    const { nodes } = (await cdp.send('Accessibility.getFullAXTree')) as {
      nodes: { ignored?: boolean; role?: { value?: string }; name?: { value?: string } }[];
    };
    const controls = new Set([
      'button',
      'link',
      'textbox',
      'searchbox',
      'combobox',
      'checkbox',
      'progressbar',
      'spinbutton',
      'radio',
      'listbox',
    ]);
    return nodes
      .filter((n) => !n.ignored && controls.has(n.role?.value ?? '') && (n.name?.value ?? '').trim() === '')
      .map((n) => `${n.role?.value ?? '?'} without a name`);
  } finally {
    await cdp.detach();
  }
}
