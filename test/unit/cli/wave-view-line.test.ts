import { describe, expect, it } from 'vitest';

import { formatWaveLine, waveExitCode, type WaveUpdate } from '../../../src/cli/wave-view-line.js';

function update(overrides: Partial<WaveUpdate> = {}): WaveUpdate {
  return {
    wave_id: '0f3c2a1e-1111-4222-8333-444455556666',
    state: 'running',
    canary: { count: 1, gate: 'open' },
    counts: { members: 10, pending: 3, starting: 0, running: 4, completed_success: 3 },
    notes: { processed: 2_150, total_known: 3_300, total_estimated: 4_714 },
    throughput_notes_per_s: 171.2,
    eta_seconds: 75,
    pause: null,
    fleet: { budget: { rate_per_s: 3.6, cap_per_s: 3.6 }, requests_per_s: 3.58, rate_limited_per_s: 0 },
    ...overrides,
  };
}

describe('the wave line of `wave status --watch`', () => {
  it('shows state, gate, members, notes, throughput, the shared budget and the ETA', () => {
    expect(formatWaveLine(update())).toBe(
      'wave 0f3c2a1e running · canary open · 3/10 done (4 running, 3 pending, 0 halted/failed, 0 skipped) · ' +
        'notes 2,150/4,714 · 171.2 notes/s · CRM budget 3.6/3.6 req/s, 3.58 req/s sent, 0 × 429/s · ETA 1 min 15 s',
    );
    expect(
      formatWaveLine(update({ fleet: null, throughput_notes_per_s: null, eta_seconds: null })),
    ).not.toMatch(/CRM budget|notes\/s|ETA/);
  });

  it('says why a paused wave paused and lists each member with its diagnosis on one line', () => {
    const line = formatWaveLine(
      update({
        state: 'paused',
        pause: {
          cause: 'stop_rule',
          message: '2 member(s) halted or failed (4601, 4602)',
          members: [
            {
              cid: '4601',
              state: 'halted',
              diagnosis: {
                cause: {
                  reason_code: 'CONTACT_NOT_MAPPED',
                  share: 0.96,
                  count: 24,
                  sample_note_ids: ['n1', 'n2'],
                  hint: 'sync the missing contacts\nthen run again',
                  systemic: true,
                },
                halt_reason: 'systemic: CONTACT_NOT_MAPPED',
                failure_rate: 0.96,
                error: null,
                would_halt: null,
              },
            },
            {
              cid: '4602',
              state: 'failed',
              diagnosis: {
                cause: null,
                halt_reason: null,
                failure_rate: 0,
                error: { code: 'CRM_EXTRACT_FAILED', message: 'CRM answered 503\n\u001b[31m' },
                would_halt: null,
              },
            },
            { cid: '4603', state: 'completed_success', diagnosis: null },
          ],
        },
      }),
    );
    const lines = line.split('\n');
    expect(lines).toHaveLength(5);
    expect(lines[1]).toBe('  paused (stop_rule): 2 member(s) halted or failed (4601, 4602)');
    expect(lines[2]).toBe(
      '    CID 4601 halted: "systemic: CONTACT_NOT_MAPPED" · diagnosis: CONTACT_NOT_MAPPED (96.0 %, systemic) — sync the missing contacts then run again · e.g. notes n1, n2',
    );
    // What CRM said stays on its line, control characters escaped.
    expect(lines[3]).toBe('    CID 4602 failed: "CRM_EXTRACT_FAILED: CRM answered 503\\n\\u001b[31m"');
    expect(lines[4]).toBe('    CID 4603 completed_success: no diagnosis');
  });

  it('says where a dry run forecasts a real run would halt', () => {
    const line = formatWaveLine(
      update({
        state: 'paused',
        pause: {
          cause: 'canary_failed',
          message: 'canary 4601 did not complete successfully',
          members: [
            {
              cid: '4601',
              state: 'completed_success',
              diagnosis: {
                cause: null,
                halt_reason: null,
                failure_rate: 0.5,
                error: null,
                would_halt: { page: 1, trigger: 'failure_rate', reason: 'failure rate 0.5 > 0.01' },
              },
            },
          ],
        },
      }),
    );
    expect(line.split('\n')[2]).toBe(
      '    CID 4601 completed_success: "a real run would halt on page 1 (failure rate 0.5 > 0.01)"',
    );
  });
});

describe('the exit code of `wave status --watch`', () => {
  it('is 0 only for a completed wave whose members all completed or were skipped', () => {
    const ended = (counts: Record<string, number>) =>
      update({ state: 'completed', counts: { members: 2, ...counts } });
    expect(waveExitCode(ended({ completed_success: 1, skipped: 1 }))).toBe(0);
    expect(waveExitCode(ended({ completed_success: 1, halted: 1 }))).toBe(1);
    expect(waveExitCode(ended({ completed_success: 1, completed_with_errors: 1 }))).toBe(1);
    expect(waveExitCode(update({ state: 'cancelled', counts: { members: 1, cancelled: 1 } }))).toBe(1);
  });
});
