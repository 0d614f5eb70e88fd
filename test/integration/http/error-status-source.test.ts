/**
 * The error catalog is the only source of an HTTP status (#12): a route that throws any code —
 * with no status anywhere in the throw — is answered with the catalog's status and body.
 */
import { Router } from '@koa/router';
import Koa from 'koa';
import { describe, expect, it } from 'vitest';

import { ERROR_CATALOG, ERROR_CODES } from '../../../src/error-catalog.js';
import { AppError } from '../../../src/errors.js';
import { createErrorMiddleware } from '../../../src/http/error-middleware.js';
import { startHttpServer } from '../../../src/http/start-http-server.js';
import { createSilentLogger } from '../../../src/logger.js';
import { call } from '../../helpers/api-server.js';
import { trackResource } from '../../helpers/leak-check.js';

describe('HTTP status from the error catalog', () => {
  it('answers every code thrown without a status with the catalog’s status (a 4xx is never hidden as a 500)', async () => {
    const app = new Koa();
    app.silent = true;
    app.use(createErrorMiddleware(createSilentLogger()));
    const router = new Router();
    router.get('/throw/:code', (ctx) => {
      throw new AppError(ctx.params.code as (typeof ERROR_CODES)[number], `thrown: ${ctx.params.code}`, {
        details: { code: ctx.params.code },
      });
    });
    app.use(router.routes());
    const server = await startHttpServer(app, { host: '127.0.0.1', port: 0, shutdownGraceMs: 500 });
    const untrack = trackResource(
      `server ${server.url}`,
      () => !server.closed,
      () => server.close(),
    );
    try {
      for (const code of ERROR_CODES) {
        const res = await call(server, 'GET', `/throw/${code}`, { auth: null });
        const { status } = ERROR_CATALOG[code];
        expect([code, res.status, res.json?.error]).toEqual([code, status, code]);
        // Client errors show their message and details; our own faults hide them.
        if (status < 500) expect(res.json).toMatchObject({ message: `thrown: ${code}`, details: { code } });
        else if (!code.startsWith('CRM_')) expect(res.json.details).toEqual({});
      }
    } finally {
      await server.close();
      untrack();
    }
  });
});
