/// <reference lib="dom" />
/**
 * The whole service for the console's browser tests (#17): API and worker from `createApp` on a
 * real port, the fake CRM over HTTP, s3rver, the test MongoDB, Chromium reaching it all through a
 * cutting proxy (a network blip on demand). Pages are watched (`watchPage`) and count the tenant
 * frames their EventSources receive. `holdPage` parks one CRM page so a test can act mid-run.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';

import { type App, createApp } from '../../src/app.js';
import { parseConfig } from '../../src/config.js';
import type { CrmNotesExtractor } from '../../src/crm/crm-notes-extractor.js';
import { seedCdp } from '../../src/crm/fake/cdp-seed.js';
import type { FakeCrm } from '../../src/crm/fake/fake-crm-server.js';
import { type FakeTenantOptions, resolveFakeTenant } from '../../src/crm/fake/fake-tenant-options.js';
import { createHttpCrmNotesExtractor } from '../../src/crm/http-crm-notes-extractor.js';
import type { HttpServerHandle } from '../../src/http/start-http-server.js';
import { createLogger } from '../../src/logger.js';
import { launchBrowser, newConsoleContext, type PageWatch, watchPage } from './browser.js';
import { type CuttingProxy, startCuttingProxy } from './cutting-proxy.js';
import { startTestS3, type TestS3 } from './embedded-s3.js';
import { startTrackedFakeCrm } from './fake-crm.js';
import { serviceEnvFor } from './service-env.js';
import type { TestDb } from './test-db.js';

export const CONSOLE_USER = 'ops';
export const CONSOLE_PASSWORD = 'console-test-password';

export interface ConsoleStackOptions {
  /** Tenants of the fake CRM; their CDP contacts and users are seeded and their flag set. */
  tenants: readonly FakeTenantOptions[];
  /** Wraps the HTTP CRM client (a tenant served from memory, say). */
  extractor?: (http: CrmNotesExtractor) => CrmNotesExtractor;
  /** More CIDs whose migration flag is set. */
  flaggedCids?: readonly string[];
  /** Environment on top of the test defaults. */
  env?: Record<string, string>;
}

/** A CRM page held back: `reached` when the worker asked for it, served after `release()`. */
export interface HeldPage {
  reached: Promise<void>;
  release(): void;
}

export interface ConsoleStack {
  app: App;
  crm: FakeCrm;
  server: HttpServerHandle;
  proxy: CuttingProxy;
  browser: Browser;
  context: BrowserContext;
  /** Error-level log lines of the service (none is expected). */
  errorLogs: string[];
  /** Holds page `page` of `cid` the next time a worker asks for it. */
  holdPage(cid: string, page: number): HeldPage;
  openPage(url: string): Promise<{ page: Page; watch: PageWatch }>;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests read response bodies loosely
  api(method: 'GET' | 'POST', url: string, body?: unknown): Promise<{ status: number; json: any }>;
  stop(): Promise<void>;
}

function holdingExtractor(
  inner: CrmNotesExtractor,
  held: Map<string, () => Promise<void>>,
): CrmNotesExtractor {
  return {
    async listPersonNotes(cid, page, perPage, signal) {
      const key = `${cid}:${page}`;
      const hold = held.get(key);
      if (hold) {
        held.delete(key);
        await hold();
      }
      return inner.listPersonNotes(cid, page, perPage, signal);
    },
    probeOrganization: (cid, signal) => inner.probeOrganization(cid, signal),
  };
}

export async function startConsoleStack(t: TestDb, options: ConsoleStackOptions): Promise<ConsoleStack> {
  const crm = await startTrackedFakeCrm({ tenants: [...options.tenants] }, 'file');
  const s3: TestS3 = await startTestS3();
  for (const tenant of options.tenants) await seedCdp(t.db, resolveFakeTenant(tenant));
  const config = parseConfig({
    ...serviceEnvFor(t.dbUri, crm, s3),
    HTTP_HOST: '127.0.0.1',
    HTTP_PORT: '0',
    API_USERNAME: CONSOLE_USER,
    API_PASSWORD: CONSOLE_PASSWORD,
    CRM_PAGE_SIZE: '100',
    // 600 notes in pages of 100: one page's failure share is noisy; the realistic tenant must not halt.
    MAX_FAILURE_RATE: '0.05',
    CHANGE_STREAMS: 'off',
    STATUS_POLL_MS: '100',
    AGENDA_PROCESS_EVERY_MS: '100',
    LOG_LEVEL: 'error',
    ...options.env,
  });
  const errorLogs: string[] = [];
  const logger = createLogger({
    level: 'error',
    destination: { write: (line: string) => void errorLogs.push(line) },
  });
  const http = createHttpCrmNotesExtractor({
    rootUrl: config.crm.rootUrl!,
    auth: config.crm.auth,
    timeoutMs: config.crm.timeoutMs,
    maxRetryAfterMs: config.crm.maxRetryAfterMs,
    logger,
  });
  const held = new Map<string, () => Promise<void>>();
  const releases = new Set<() => void>();
  const extractor = holdingExtractor(options.extractor ? options.extractor(http) : http, held);
  const app = await createApp(config, logger, { extractor });
  const now = new Date();
  for (const cid of [...options.tenants.map((x) => x.cid), ...(options.flaggedCids ?? [])]) {
    await app.repos.featureFlags.setFlag(cid, 'crm_notes_migration_enabled', true, now);
  }
  await app.startWorker();
  const server = await app.startApi({ dashboard: false });
  const proxy = await startCuttingProxy(server.url, 'file');
  const browser = await launchBrowser();
  const context = await newConsoleContext(browser, proxy.url, {
    username: CONSOLE_USER,
    password: CONSOLE_PASSWORD,
  });

  return {
    app,
    crm,
    server,
    proxy,
    browser,
    context,
    errorLogs,
    holdPage(cid, page) {
      let reached!: () => void;
      let release!: () => void;
      const reachedP = new Promise<void>((r) => (reached = r));
      const open = new Promise<void>((r) => (release = r));
      releases.add(release);
      held.set(`${cid}:${page}`, () => {
        reached();
        return open;
      });
      return { reached: reachedP, release: () => release() };
    },
    async openPage(url) {
      const page = await context.newPage();
      const watch = await watchPage(page);
      // Counts every tenant frame the page's EventSources receive (init scripts run before the CSP applies).
      await page.addInitScript(() => {
        const w = window as unknown as { __frames: { id: string; data: string }[] };
        w.__frames = [];
        const Original = window.EventSource;
        window.EventSource = class extends Original {
          constructor(url: string | URL, init?: EventSourceInit) {
            super(url, init);
            this.addEventListener('tenant', (e) => w.__frames.push({ id: e.lastEventId, data: e.data }));
          }
        };
      });
      await page.goto(url);
      return { page, watch };
    },
    async api(method, url, body) {
      const res = await context.request.fetch(url, {
        method,
        ...(body === undefined ? {} : { data: body }),
      });
      const json: unknown = await res.json().catch(() => null);
      return { status: res.status(), json };
    },
    async stop() {
      // A page still held would keep its worker waiting through the shutdown.
      held.clear();
      for (const release of releases) release();
      await context.close();
      await browser.close();
      await proxy.close();
      await app.stop();
      await crm.stop();
      await s3.stop();
    },
  };
}
