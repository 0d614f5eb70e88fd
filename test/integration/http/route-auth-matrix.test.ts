/**
 * Every registered route × path spellings × credentials (issue #11). The routes come from the
 * app's own routers (every router mounted on the Koa app, read from its stack), so a route added
 * later is covered without touching this file. A spy on each handler proves that no spelling of
 * a protected path reaches a handler without its credentials, and that with valid credentials
 * only the exact, canonical path does.
 */
import pLimit from 'p-limit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createAgenda } from '../../../src/jobs/agenda-factory.js';
import { createSilentLogger } from '../../../src/logger.js';
import { type ApiUnderTest, BASIC, READ_TOKEN, startApi } from '../../helpers/api-server.js';
import { trackResource } from '../../helpers/leak-check.js';
import { rawRequest, type RawResponse } from '../../helpers/raw-http.js';
import {
  createRouteSpy,
  type HandlerCall,
  routersOf,
  type RouteUnderTest,
  spyOnHandlers,
} from '../../helpers/route-spy.js';
import { useTestDb } from '../../helpers/test-db.js';

const t = useTestDb(import.meta.url);

/** Routes anyone may call; every other route must live under `/private` or `/v1`. */
const PUBLIC_ROUTES = ['/healthz', '/readyz', '/metrics'];
const isProtected = (path: string) => path.startsWith('/private') || path.startsWith('/v1/');

const spy = createRouteSpy();
const { routes, calls } = spy;
let api: ApiUnderTest;

let stopAgenda: () => Promise<void>;

beforeAll(async () => {
  const agenda = await createAgenda({
    db: t.db,
    name: 'route-matrix',
    processEveryMs: 60_000,
    lockLifetimeMs: 60_000,
    concurrency: 1,
    logger: createSilentLogger(),
  });
  let open = true;
  stopAgenda = async () => {
    open = false;
    await agenda.stop(false);
  };
  trackResource('agenda (route matrix)', () => open, stopAgenda, 'file');
  api = await startApi(t, { agenda, scope: 'file', onApp: (app) => spyOnHandlers(app, spy) });
});

afterAll(async () => {
  await api.close();
  await stopAgenda();
});

/** Spellings of `path` that are not `path`: each must reach no handler. */
function pathVariants(path: string): [string, string][] {
  const [first = '', ...rest] = path.slice(1).split('/');
  const tail = rest.join('/');
  const upperLast = path.replace(/[a-z](?=[^a-z]*$)/, (c) => c.toUpperCase());
  const encodeFirstLetter = (s: string) =>
    s.replace(/[a-z]/, (c) => `%${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
  const variants: [string, string][] = [
    ['upper case', path.toUpperCase()],
    ['capitalised first segment', `/${first.charAt(0).toUpperCase()}${first.slice(1)}/${tail}`],
    ['last letter upper case', upperLast],
    ['double slash inside', `/${first}//${tail}`],
    ['leading double slash', `/${path}`],
    ['trailing slash', `${path}/`],
    ['trailing dot segment', `${path}/.`],
    ['encoded slash %2F', `/${first}%2F${tail}`],
    ['encoded slash %2f', `/${first}%2f${tail}`],
    ['backslash', `/${first}\\${tail}`],
    ['encoded backslash', `/${first}%5C${tail}`],
    ['encoded first letter (%70)', `/${encodeFirstLetter(first)}/${tail}`],
    [
      'encoded letter in the last segment',
      path.replace(/\/([^/]*)$/, (_m, s: string) => `/${encodeFirstLetter(s)}`),
    ],
    ['dot-dot segment', `/${first}/x/../${tail}`],
    ['encoded dot-dot', `/${first}/x/%2e%2e/${tail}`],
    ['dot segment', `/${first}/./${tail}`],
    ['encoded dot segment', `/${first}/%2E/${tail}`],
    [';jsessionid=', `${path};jsessionid=abc123`],
    ['matrix parameter in the first segment', `/${first};a=b/${tail}`],
    ['trailing encoded space', `${path}%20`],
    ['trailing NUL', `${path}%00`],
    ['trailing tab', `${path}%09`],
    ['malformed percent-encoding', `${path}%zz`],
    ['overlong UTF-8 slash', `/${first}%C0%AF${tail}`],
    ['long s (U+017F folds to s)', path.replace('s', '%C5%BF')],
    ['dotless i (U+0131 folds to I)', path.replace('i', '%C4%B1')],
    ['Kelvin sign (U+212A folds to k)', path.replace('k', '%E2%84%AA')],
    [
      'fullwidth first letter',
      `/${first.replace(/^./, (c) => encodeURIComponent(String.fromCodePoint(c.charCodeAt(0) + 0xfee0)))}/${tail}`,
    ],
    ['raw UTF-8 long s', path.replace('s', 'ſ')],
  ];
  return variants.filter(([, v]) => v !== path);
}

const WRONG_BASIC = `Basic ${Buffer.from('ops:wrong-password').toString('base64')}`;
/** Credentials that must never open a protected route: none, wrong ones, the other area's. */
function badCredentials(path: string): [string, string | null][] {
  return [
    ['no credentials', null],
    ['wrong Basic password', WRONG_BASIC],
    ['malformed Authorization', 'Basic !!!'],
    path.startsWith('/v1/')
      ? ['the Basic credentials on /v1', BASIC]
      : ['the read token on /private', `Bearer ${READ_TOKEN}`],
  ];
}
const goodCredentials = (path: string) => (path.startsWith('/v1/') ? `Bearer ${READ_TOKEN}` : BASIC);

/**
 * Is `path` the canonical spelling of `template`: every literal character exactly as registered,
 * each `:param` one segment of anything? (A parameter's value is the handler's to judge.)
 */
function spellsExactly(template: string, path: string): boolean {
  const pattern = template
    .split(/(:[a-z_]+)/)
    .map((part) => (part.startsWith(':') ? '[^/]+' : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
    .join('');
  return new RegExp(`^${pattern}$`).test(path);
}
const isCanonicalRoute = (method: string, path: string) =>
  routes.some((r) => r.method === method && spellsExactly(r.template, path));

async function send(method: string, target: string, auth: string | null): Promise<RawResponse> {
  return rawRequest(api.url, method, target, { headers: auth === null ? {} : { authorization: auth } });
}

/** What may answer a refused spelling: 400 (not canonical), 401 (no auth), 404 (no route). */
function expectRefused(res: RawResponse, method: string, what: string) {
  expect([400, 401, 404], `${what} answered ${res.status}`).toContain(res.status);
  // Our error body, unless Node's HTTP parser refused the request line itself (raw non-ASCII).
  if (method !== 'HEAD' && res.headers['content-type']?.startsWith('application/json')) {
    expect(res.json?.error, what).toMatch(/^(VALIDATION_ERROR|UNAUTHORIZED|NOT_FOUND)$/);
  }
}

/** Calls every protected route's canonical path with bad credentials; lists what got through. */
async function probeWithoutCredentials(
  url: string,
  routesToProbe: RouteUnderTest[],
  seen: HandlerCall[],
): Promise<string[]> {
  const limit = pLimit(8);
  seen.length = 0;
  const problems: string[] = [];
  await Promise.all(
    routesToProbe
      .filter((r) => isProtected(r.template))
      .flatMap((r) =>
        badCredentials(r.path).map(([credName, auth]) =>
          limit(async () => {
            const res = await rawRequest(url, r.method, r.path, {
              headers: auth === null ? {} : { authorization: auth },
            });
            const bodyOk = r.method === 'HEAD' || res.json?.error === 'UNAUTHORIZED';
            if (res.status !== 401 || !bodyOk) {
              problems.push(`${r.method} ${r.path} with ${credName} answered ${res.status}`);
            }
          }),
        ),
      ),
  );
  for (const c of seen) problems.push(`handler of ${c.method} ${c.template} ran for ${c.requested}`);
  return problems;
}

describe('route × path variant × credentials (issue #11)', () => {
  it('enumerates the routes of every router: each is public by name or lives under /private or /v1', () => {
    expect(routes.length).toBeGreaterThan(20);
    for (const route of routes) {
      expect(PUBLIC_ROUTES.includes(route.template) || isProtected(route.template), route.template).toBe(
        true,
      );
    }
  });

  it('answers 401 and runs no handler for every protected route called without valid credentials', async () => {
    expect(await probeWithoutCredentials(api.url, routes, calls)).toEqual([]);
  });

  it('catches a protected route registered without its guard (the probe is not blind)', async () => {
    const canarySpy = createRouteSpy();
    const canary = await startApi(t, {
      onApp: (app) => {
        // As if someone registered a /private route on the public router.
        routersOf(app)[0]!.get('/private/canary', (ctx) => {
          ctx.body = { leaked: true };
        });
        spyOnHandlers(app, canarySpy);
      },
    });
    const problems = await probeWithoutCredentials(canary.url, canarySpy.routes, canarySpy.calls);
    await canary.close();
    expect(problems.length).toBeGreaterThan(0);
    expect(problems.every((p) => p.includes('/private/canary'))).toBe(true);
  });

  it('leaves the Basic user name on ctx.state.principal for every /private route (#12 stores it)', async () => {
    const seen: unknown[] = [];
    const probe = await startApi(t, {
      onApp: (app) => {
        const [, privateRouter] = routersOf(app);
        privateRouter!.post('/private/whoami', (ctx) => {
          seen.push(ctx.state.principal);
          ctx.body = {};
        });
      },
    });
    const res = await rawRequest(probe.url, 'POST', '/private/whoami', { headers: { authorization: BASIC } });
    await probe.close();
    expect(res.status).toBe(200);
    expect(seen).toEqual(['ops']);
  });

  it('reaches no handler with any other spelling of a protected path, whatever the credentials', async () => {
    const limit = pLimit(8);
    calls.length = 0;
    let sent = 0;
    const checks = routes
      .filter((r) => isProtected(r.template))
      .flatMap((r) =>
        pathVariants(r.path).flatMap(([variantName, target]) =>
          [...badCredentials(r.path), ['valid credentials', goodCredentials(r.path)] as const].map(
            ([credName, auth]) =>
              limit(async () => {
                const res = await send(r.method, target, auth);
                sent++;
                // With valid credentials, a canonical spelling of a route (`/private/dash` + `/` is
                // the dashboard page; `c-1;x` is a parameter value) is that route: it may answer.
                if (!(auth === goodCredentials(r.path) && isCanonicalRoute(r.method, target))) {
                  expectRefused(res, r.method, `${r.method} ${target} (${variantName}) with ${credName}`);
                }
              }),
          ),
        ),
      );
    await Promise.all(checks);
    expect(sent).toBeGreaterThan(1000);
    // Only such canonical spellings may have run, and only with valid credentials.
    const strays = calls.filter(
      (c) => c.authorization !== goodCredentials(c.template) || !spellsExactly(c.template, c.requested),
    );
    expect(strays).toEqual([]);
  });

  it('runs each protected handler for its canonical path with valid credentials (the spies work)', async () => {
    calls.length = 0;
    for (const r of routes.filter((x) => isProtected(x.template) && x.method !== 'HEAD')) {
      const res = await send(r.method, r.path, goodCredentials(r.path));
      expect(res.status, `${r.method} ${r.path}`).not.toBe(401);
      expect(calls.at(-1), `${r.method} ${r.path}`).toMatchObject({ method: r.method, template: r.template });
    }
  });

  it('serves the public routes without credentials', async () => {
    for (const path of PUBLIC_ROUTES) {
      expect((await send('GET', path, null)).status, path).not.toBe(401);
    }
  });
});
