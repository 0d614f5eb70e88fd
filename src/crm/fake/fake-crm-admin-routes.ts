/**
 * The fake CRM's fake-only routes, outside the CRM contract (no auth, like `/healthz`): read the
 * behaviour's counters (`GET /_fake/counters`) and reset them (`POST /_fake/reset?scope=`).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

import type { FakeCrmBehaviourRuntime } from './fake-crm-behaviour-runtime.js';
import { sendJson } from './fake-http-io.js';

const COUNTERS_ROUTE = '/_fake/counters';
const RESET_ROUTE = '/_fake/reset';

export function isFakeOnlyRoute(url: URL): boolean {
  return url.pathname === COUNTERS_ROUTE || url.pathname === RESET_ROUTE;
}

export function handleFakeOnlyRoute(
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  runtime: Pick<FakeCrmBehaviourRuntime, 'counters' | 'reset'>,
): void {
  if (url.pathname === COUNTERS_ROUTE) {
    if (req.method !== 'GET') return sendJson(res, 405, { error: 'method_not_allowed' }, { allow: 'GET' });
    return sendJson(res, 200, runtime.counters.snapshot());
  }
  if (req.method !== 'POST') return sendJson(res, 405, { error: 'method_not_allowed' }, { allow: 'POST' });
  const scope = url.searchParams.get('scope') ?? 'counters';
  if (scope !== 'counters' && scope !== 'all') {
    return sendJson(res, 400, {
      error: 'invalid_scope',
      message: `scope must be counters or all, got ${JSON.stringify(scope)}`,
    });
  }
  const before = runtime.counters.snapshot();
  runtime.reset(scope);
  sendJson(res, 200, { reset: scope, before });
}
