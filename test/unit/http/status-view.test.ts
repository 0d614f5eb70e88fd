import { describe, expect, it } from 'vitest';

import { isFinalStatus, toRunHistoryEntry, toStatusView } from '../../../src/http/status-view.js';
import { makeConfigStamp, makeRun } from '../../fixtures/builders.js';

describe('status view', () => {
  it('shows a CID without runs as not_started and nothing else', () => {
    expect(toStatusView(null)).toEqual({ status: 'not_started' });
  });

  it('shows the status fields of the issue, dates as ISO strings', () => {
    const run = makeRun({
      _id: 'r1',
      status: 'halted',
      notes_total: 200,
      notes_processed: 200,
      notes_migrated: 197,
      notes_failed: 3,
      progress_pct: 100,
      failure_rate: 0.015,
      started_at: new Date('2026-01-01T00:00:01.000Z'),
      finished_at: new Date('2026-01-01T00:00:09.000Z'),
      halt_reason: 'failure_rate 0.0150 > MAX_FAILURE_RATE 0.01 after page 1',
    });
    expect(toStatusView(run)).toEqual({
      status: 'halted',
      run_id: 'r1',
      progress_pct: 100,
      notes_processed: 200,
      notes_total: 200,
      notes_migrated: 197,
      notes_skipped: 0,
      notes_failed: 3,
      out_of_scope_count: 0,
      failure_rate: 0.015,
      match_pct: null,
      started_at: '2026-01-01T00:00:01.000Z',
      updated_at: '2026-01-01T00:00:00.000Z',
      finished_at: '2026-01-01T00:00:09.000Z',
      halt_reason: 'failure_rate 0.0150 > MAX_FAILURE_RATE 0.01 after page 1',
      error: null,
      kind: 'migrate',
      triggered_by: null,
      config: null,
      target_run_id: null,
      rolled_back_by: null,
      reconcile: null,
      repair: null,
      rollback: null,
      options: {},
      halt_diagnosis: null,
      forecast: null,
    });
  });

  it('shows a halt diagnosis, the run options and a dry run’s forecast (#13)', () => {
    const diagnosis = {
      reason_code: 'CONTACT_NOT_MAPPED' as const,
      share: 0.9,
      count: 450,
      sample_note_ids: ['1', '2'],
      hint: 'contacts of company co are not in CDP',
      systemic: true,
    };
    const halted = makeRun({ status: 'halted', halt_diagnosis: diagnosis });
    expect(toStatusView(halted)).toMatchObject({ halt_diagnosis: diagnosis, forecast: null, options: {} });

    const dry = makeRun({
      kind: 'dry_run',
      options: { verify_attachments: true },
      notes_processed: 10,
      notes_migrated: 9,
      notes_failed: 1,
      failure_rate: 0.1,
      problem_tally: {
        by_reason: { CONTACT_NOT_MAPPED: 1, OWNER_NOT_MAPPED: 2 },
        samples: { CONTACT_NOT_MAPPED: ['7'], OWNER_NOT_MAPPED: ['3', '4'] },
      },
      forecast: {
        verify_attachments: true,
        pages: 1,
        read_ms: 40,
        persons_seen: { ids: ['p1', 'p2'], sketch: null },
        persons_found: { ids: ['p1'], sketch: null },
        owners: { by_crm_user_id: 7, by_email: 0, unmapped: 2 },
        attachments: {
          declared: 0,
          would_store: 0,
          would_store_bytes: 0,
          blocked: 0,
          blocked_hosts: [],
          blocked_elsewhere: 0,
        },
        would_halt: null,
        outcome: null,
        estimated_duration: null,
      },
    });
    expect(toStatusView(dry)).toMatchObject({
      kind: 'dry_run',
      options: { verify_attachments: true },
      forecast: {
        complete: false,
        migrated: 9,
        failed: 1,
        failures_by_reason: { CONTACT_NOT_MAPPED: 1 },
        warnings_by_reason: { OWNER_NOT_MAPPED: 2 },
        contacts: { persons_seen: 2, persons_found: 1, exact: true },
        owners: { by_crm_user_id: 7, by_email: 0, unmapped: 2 },
        terminal_status: null,
        attachments: { verified: true },
        diagnosis: { reason_code: 'CONTACT_NOT_MAPPED', systemic: false, sample_note_ids: ['7'] },
      },
    });
  });

  it('shows the kind and the audit stamp; a run stored before kinds existed is a migrate run (#12)', () => {
    const stamp = makeConfigStamp({ attachment_hosts: ['files.crm.example'] });
    expect(toStatusView(makeRun({ triggered_by: 'ops (cli)', config: stamp }))).toMatchObject({
      kind: 'migrate',
      triggered_by: 'ops (cli)',
      config: stamp,
    });
    const legacy = makeRun();
    delete legacy.kind;
    expect(toStatusView(legacy)).toMatchObject({ kind: 'migrate', triggered_by: null, config: null });
  });

  it('adds the run’s identity, checkpoint and closure summary to a history entry', () => {
    const entry = toRunHistoryEntry(
      makeRun({
        closure: {
          balanced: true,
          notes_total: 3,
          accounted: 3,
          unaccounted_ids: ['x'],
          unaccounted_count: 0,
        },
      }),
    );
    expect(entry).toMatchObject({ cid: '100', mode: 'restart', checkpoint: { page: 0, total_pages: null } });
    expect(entry.closure).toEqual({ balanced: true, accounted: 3, unaccounted_count: 0 });
  });

  it('ends a stream on terminal statuses only', () => {
    expect(isFinalStatus({ status: 'not_started' })).toBe(false);
    expect(isFinalStatus(toStatusView(makeRun({ status: 'in_progress' })))).toBe(false);
    for (const status of [
      'halted',
      'failed',
      'cancelled',
      'completed_success',
      'completed_with_errors',
    ] as const) {
      expect(isFinalStatus(toStatusView(makeRun({ status })))).toBe(true);
    }
  });
});
