/**
 * The operator console's routes (#17) on the private router, behind its Basic auth and CSRF guard:
 * the tenants page, the run page, the waves pages and the console's own static files. Every page
 * answers with a strict CSP (scripts and styles from this origin only, nothing inline, no frames)
 * and no caching; a refused request (bad filter, unknown run) is an HTML page with the catalog's
 * status. The console's actions call the JSON API from the browser, like the CLI does.
 */
import type { Router } from '@koa/router';
import type { Context, Middleware } from 'koa';
import { z } from 'zod';

import type { RunDoc } from '../../db/documents.js';
import type { FailuresRepository } from '../../db/failures-repository.js';
import type { RunsRepository } from '../../db/runs-repository.js';
import { runKindOf } from '../../domain.js';
import { AppError } from '../../errors.js';
import type { Logger } from '../../logger.js';
import { toFailureView } from '../failure-routes.js';
import { optionalPatternSchema, parseInput } from '../parse-input.js';
import { readReasonCounts, readRunOrThrow, type ReasonCount, RunPathSchema } from '../run-routes.js';
import { readTenantList, TenantsQuerySchema } from '../tenant-routes.js';
import { createConsoleAssets } from './console-assets.js';
import {
  type ConsoleCapabilities,
  detectConsoleCapabilities,
  type RouteEntry,
  type RunKindFacts,
} from './console-capabilities.js';
import { renderPage } from './console-layout.js';
import {
  CONSOLE_ASSETS_PATH,
  CONSOLE_PATH,
  CONSOLE_RUN_PATH,
  CONSOLE_WAVE_PATH,
  CONSOLE_WAVES_PATH,
  wavePageHref,
} from './console-paths.js';
import type { ForecastPair } from './forecast-section.js';
import { html, type SafeHtml } from './html.js';
import { renderRunPage } from './run-page.js';
import { CONSOLE_PAGE_SIZES, renderTenantsPage } from './tenants-page.js';
import { renderWavePage, renderWavesIndex } from './waves-page.js';

/**
 * `'self'` only, nothing inline, no `eval`, no plugins, no frames, forms and fetches to this
 * origin only. Every script and style of the console is a file under `assets/`.
 */
export const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "form-action 'self'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** Records shown per reason code on the run page. */
const SAMPLES_PER_REASON = 3;
/** Runs of the tenant listed on the run page. */
const HISTORY_RUNS = 20;

const WaveIndexQuerySchema = z.strictObject({
  wave_id: optionalPatternSchema('wave_id', /^[A-Za-z0-9_-]{1,64}$/, '1-64 characters of A-Z a-z 0-9 _ -'),
});
const WavePathSchema = z.strictObject({
  wave_id: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'wave_id must be 1-64 characters of A-Z a-z 0-9 _ -'),
});
const AssetPathSchema = z.strictObject({ file: z.string().regex(/^[a-z-]{1,40}\.(js|css|svg)$/) });

export interface ConsoleRouteDeps {
  runs: Pick<RunsRepository, 'listTenants' | 'get' | 'listForCid'>;
  failures: Pick<FailuresRepository, 'countByReason' | 'list'>;
  /** Every route of the private router, read when a page is rendered (all are registered by then). */
  routes: () => readonly RouteEntry[];
  /** The service's run kinds: which the trigger starts, which resume. */
  kinds: RunKindFacts;
  /** Properties of the trigger body the OpenAPI document describes (feature detection). */
  migrateBodyProperties: readonly string[];
  logger: Logger;
}

/** The console's answer headers: set before the handler, so errors carry them too. */
const consoleHeaders: Middleware = async (ctx, next) => {
  ctx.set('Content-Security-Policy', CONSOLE_CSP);
  ctx.set('X-Frame-Options', 'DENY');
  ctx.set('Referrer-Policy', 'no-referrer');
  ctx.set('X-Content-Type-Options', 'nosniff');
  ctx.set('Cross-Origin-Opener-Policy', 'same-origin');
  ctx.set('Cross-Origin-Resource-Policy', 'same-origin');
  await next();
};

export function registerConsoleRoutes(router: Router, deps: ConsoleRouteDeps): void {
  const assets = createConsoleAssets();
  let capabilities: ConsoleCapabilities | undefined;
  const caps = () =>
    (capabilities ??= detectConsoleCapabilities(deps.routes(), deps.kinds, deps.migrateBodyProperties));

  const page = (render: (ctx: Context) => Promise<SafeHtml>): Middleware => {
    return async (ctx) => {
      let markup: SafeHtml;
      try {
        markup = await render(ctx);
      } catch (e) {
        if (!(e instanceof AppError)) throw e;
        ctx.status = e.status;
        markup = renderErrorPage(e, caps());
      }
      ctx.type = 'text/html; charset=utf-8';
      ctx.set('Cache-Control', 'no-store');
      ctx.body = markup.markup;
    };
  };

  router.get(
    CONSOLE_PATH,
    consoleHeaders,
    page(async (ctx) => {
      const query = parseInput(TenantsQuerySchema, ctx.query, 'query');
      // One page of rows is one tenants stream: at most its CID limit.
      const limit = Math.min(query.limit, CONSOLE_PAGE_SIZES.at(-1) ?? query.limit);
      const list = await readTenantList(deps.runs, { ...query, limit });
      return renderTenantsPage(list, { ...query, limit }, caps());
    }),
  );

  router.get(
    CONSOLE_RUN_PATH,
    consoleHeaders,
    page(async (ctx) => {
      const { run_id: runId } = parseInput(RunPathSchema, ctx.params, 'path');
      const run = await readRunOrThrow(deps.runs, runId);
      const [reasons, history] = await Promise.all([
        readReasonCounts(deps.failures, runId),
        deps.runs.listForCid(run.cid, HISTORY_RUNS),
      ]);
      const samples = new Map(
        await Promise.all(
          reasons.map(async (r) => {
            const query = { cid: run.cid, runId, reasonCode: r.reason_code };
            const found = await deps.failures.list(query, { limit: SAMPLES_PER_REASON });
            return [r.reason_code, found.items.map(toFailureView)] as const;
          }),
        ),
      );
      return renderRunPage({
        run,
        reasons,
        samples,
        history,
        forecastPair: await readForecastPair(deps.failures, run, history, reasons),
        capabilities: caps(),
      });
    }),
  );

  router.get(
    CONSOLE_WAVES_PATH,
    consoleHeaders,
    page((ctx) => {
      const { wave_id: waveId } = parseInput(WaveIndexQuerySchema, ctx.query, 'query');
      if (waveId !== undefined) {
        ctx.redirect(wavePageHref(waveId));
        return Promise.resolve(html``);
      }
      return Promise.resolve(renderWavesIndex(caps()));
    }),
  );

  router.get(
    CONSOLE_WAVE_PATH,
    consoleHeaders,
    page((ctx) => {
      const { wave_id: waveId } = parseInput(WavePathSchema, ctx.params, 'path');
      if (caps().wavePath === null) {
        throw new AppError('NOT_FOUND', 'This service has no waves API yet (#16)');
      }
      return Promise.resolve(renderWavePage(waveId, caps()));
    }),
  );

  router.get(`${CONSOLE_ASSETS_PATH}/:file`, consoleHeaders, async (ctx) => {
    const { file } = parseInput(AssetPathSchema, ctx.params, 'path');
    const asset = await assets.load(file);
    if (!asset) throw new AppError('NOT_FOUND', `No console asset ${file}`);
    ctx.type = asset.type;
    ctx.set('Cache-Control', 'no-cache');
    ctx.body = asset.bytes;
  });
}

/**
 * The forecast pair this run belongs to: for a dry run, the first real run after it; for a real
 * run, the newest dry run before it (`history` is newest first). Null when there is none.
 */
async function readForecastPair(
  failures: Pick<FailuresRepository, 'countByReason'>,
  run: RunDoc,
  history: readonly RunDoc[],
  reasons: readonly ReasonCount[],
): Promise<ForecastPair | null> {
  const isDry = (r: RunDoc) => runKindOf(r) === 'dry_run';
  if (isDry(run)) {
    const real = history.filter((r) => !isDry(r) && r.created_at > run.created_at).at(-1);
    return real
      ? { dryRun: run, realRun: real, realReasons: await readReasonCounts(failures, real._id) }
      : null;
  }
  const dry = history.find((r) => isDry(r) && r.created_at < run.created_at);
  return dry ? { dryRun: dry, realRun: run, realReasons: reasons } : null;
}

function renderErrorPage(e: AppError, capabilities: ConsoleCapabilities): SafeHtml {
  const body = html`<h1>${e.status === 404 ? 'Not found' : 'Request refused'}</h1>
    <p class="panel problem" id="error-message">
      <span class="mono">${e.code}</span>:
      ${e.expose ? e.message : 'Internal error; the server log has the details'}
    </p>
    <p><a href="${CONSOLE_PATH}">Back to the tenants</a></p>`;
  return renderPage({ title: e.code, current: 'tenants', capabilities, scripts: [], body });
}
