import type { Context } from 'koa';
import { describe, expect, it } from 'vitest';

import { createMetrics } from '../../src/metrics.js';
import type { PageOutcome } from '../../src/migration/run-step.js';
import { makeRun } from '../fixtures/builders.js';

async function value(m: ReturnType<typeof createMetrics>, name: string, labels: Record<string, string> = {}) {
  const metric = await m.registry.getSingleMetric(name)?.get();
  return (metric?.values ?? [])
    .filter((v) => Object.entries(labels).every(([k, l]) => (v.labels as Record<string, unknown>)[k] === l))
    .reduce((sum, v) => sum + v.value, 0);
}

const outcome = (o: Partial<PageOutcome>): PageOutcome => ({
  seen: 0,
  migrated: 0,
  skipped: 0,
  failed: 0,
  outOfScope: 0,
  withWarnings: 0,
  problemsByReason: {},
  timings: {
    existing_ms: 0,
    resolve_ms: 0,
    normalize_ms: 0,
    attachments_ms: 0,
    write_ms: 0,
    failure_log_ms: 0,
  },
  unaccountedIds: [],
  ...o,
});

describe('metrics', () => {
  it('counts notes by outcome and problems by reason code and severity from the run observer', async () => {
    const m = createMetrics({ defaultMetrics: false });
    m.migrationObserver.pageProcessed?.(
      makeRun(),
      outcome({
        migrated: 5,
        skipped: 2,
        failed: 1,
        outOfScope: 3,
        problemsByReason: { NOTE_TOO_LONG: 1, OWNER_NOT_MAPPED: 4 },
      }),
      1500,
    );
    m.migrationObserver.runFinished?.(makeRun(), 'completed_with_errors');
    expect(await value(m, 'cnm_notes_migrated_total')).toBe(5);
    expect(await value(m, 'cnm_notes_skipped_total')).toBe(2);
    expect(await value(m, 'cnm_notes_failed_total')).toBe(1);
    expect(await value(m, 'cnm_notes_out_of_scope_total')).toBe(3);
    expect(
      await value(m, 'cnm_note_problems_total', { reason_code: 'NOTE_TOO_LONG', severity: 'failure' }),
    ).toBe(1);
    expect(
      await value(m, 'cnm_note_problems_total', { reason_code: 'OWNER_NOT_MAPPED', severity: 'warning' }),
    ).toBe(4);
    expect(await value(m, 'cnm_runs_finished_total', { status: 'completed_with_errors' })).toBe(1);
    const text = await m.registry.metrics();
    expect(text).toContain('cnm_page_duration_seconds_bucket{le="2.5"} 1');
  });

  it('labels HTTP requests by route template, never by raw path, and skips SSE streams', async () => {
    const m = createMetrics({ defaultMetrics: false });
    const run = (ctx: Partial<Context> & Record<string, unknown>) =>
      m.httpMiddleware(ctx as unknown as Context, () => Promise.resolve());
    await run({
      method: 'GET',
      path: '/v1/contacts/abc/notes',
      status: 200,
      response: { type: 'application/json' } as never,
      _matchedRoute: '/v1/contacts/:contact_id/notes',
    });
    await run({
      method: 'GET',
      path: '/random/123',
      status: 404,
      response: { type: 'application/json' } as never,
    });
    await run({
      method: 'GET',
      path: '/private/dash/api',
      status: 200,
      response: { type: 'application/json' } as never,
      // The dashboard is on our own router, so its routes have templates too (#11).
      _matchedRoute: '/private/dash/api',
    });
    await run({
      method: 'GET',
      path: '/s',
      status: 200,
      response: { type: 'text/event-stream' } as never,
      _matchedRoute: '/s',
    });
    const metric = await m.registry.getSingleMetric('cnm_http_request_duration_seconds')?.get();
    const routes = new Set(metric?.values.map((v) => v.labels.route));
    expect([...routes].sort()).toEqual(['/private/dash/api', '/v1/contacts/:contact_id/notes', 'unmatched']);
  });

  it('tracks open SSE and change streams, and bounds CRM retry reasons', async () => {
    const m = createMetrics({ defaultMetrics: false });
    m.sse.streamOpened();
    m.sse.streamOpened();
    m.sse.streamClosed();
    m.statusFeedObserver.changeStreamOpened?.();
    m.statusFeedObserver.changeStreamClosed?.();
    m.onCrmRetry({ attempt: 1, status: null, reason: 'timeout', delayMs: 1000 });
    m.onCrmRetry({ attempt: 2, status: null, reason: '<script>', delayMs: 3000 });
    expect(await value(m, 'cnm_sse_streams_open')).toBe(1);
    expect(await value(m, 'cnm_status_change_streams_open')).toBe(0);
    expect(await value(m, 'cnm_crm_retries_total', { reason: 'timeout' })).toBe(1);
    expect(await value(m, 'cnm_crm_retries_total', { reason: 'other' })).toBe(1);
  });
});
