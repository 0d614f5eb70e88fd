import { describe, expect, it } from 'vitest';

import type { WaveDoc } from '../../../src/db/documents.js';
import { toWaveSummary, toWaveView } from '../../../src/http/wave-view.js';
import { makeWaveMember } from '../../fixtures/builders.js';

const at = new Date('2026-12-01T10:00:00.000Z');

const member = makeWaveMember;

function wave(overrides: Partial<WaveDoc> = {}): WaveDoc {
  return {
    _id: 'w-1',
    kind: 'migrate',
    state: 'running',
    canary: 1,
    max_parallel_tenants: 2,
    stop_after_failed_tenants: 1,
    generation: 1,
    members: [
      member({ cid: '1', state: 'completed_success', canary: true, notes_processed: 100, notes_total: 100 }),
      member({ cid: '2', state: 'running', notes_processed: 150, notes_total: 300, notes_per_s: 12.5 }),
      member({ cid: '3' }),
      member({ cid: '4', state: 'skipped', reason: { code: 'FLAG_DISABLED', message: 'off' } }),
    ],
    scheduler: { owner: 'host:1:a', epoch: 3, expires_at: new Date(at.getTime() + 5_000), generation: 1 },
    pause: null,
    cancel: null,
    fleet: {
      sampled_at: at,
      budget: {
        rate_per_s: 3.6,
        cap_per_s: 3.6,
        burst: 2,
        paused_until: null,
        requests_total: 61,
        rate_limited_total: 0,
      },
      requests_per_s: 3.58,
      rate_limited_per_s: 0,
      notes_per_s: 25,
    },
    created_by: 'ops',
    created_at: at,
    updated_at: at,
    finished_at: null,
    ...overrides,
  };
}

describe('the wave body', () => {
  it('counts members by state, estimates the notes of members whose total is unknown, and gives an ETA', () => {
    const view = toWaveView(wave(), at);
    expect(view.counts).toMatchObject({
      members: 4,
      completed_success: 1,
      running: 1,
      pending: 1,
      skipped: 1,
    });
    // The skipped member is not counted; the pending one is estimated at the known members' mean (200).
    expect(view.notes).toEqual({
      processed: 250,
      total_known: 400,
      members_with_unknown_total: 1,
      total_estimated: 600,
    });
    expect(view.throughput_notes_per_s).toBe(25);
    expect(view.eta_seconds).toBe(14); // (600 - 250) / 25
    expect(view.canary).toEqual({ count: 1, gate: 'open', members: ['1'] });
    expect(view.scheduler).toEqual({ owner: 'host:1:a', live: true, expires_at: '2026-12-01T10:00:05.000Z' });
    expect(view.fleet).toMatchObject({
      sampled_at: '2026-12-01T10:00:00.000Z',
      budget: { rate_per_s: 3.6, paused_until: null },
      requests_per_s: 3.58,
    });
    expect(view.members[1]).toMatchObject({ cid: '2', progress_pct: 0, notes_per_s: 12.5, diagnosis: null });
  });

  it('shows no throughput or ETA once the wave has ended, and a scheduler past its lease as not live', () => {
    const ended = toWaveView(wave({ state: 'completed', finished_at: at }), new Date(at.getTime() + 60_000));
    expect(ended).toMatchObject({
      throughput_notes_per_s: null,
      eta_seconds: null,
      finished_at: at.toISOString(),
    });
    expect(ended.scheduler.live).toBe(false);
    expect(toWaveView(wave({ fleet: null }), at)).toMatchObject({ fleet: null, eta_seconds: null });
  });

  it('lists a summary without members', () => {
    expect(toWaveSummary(wave())).toEqual({
      wave_id: 'w-1',
      kind: 'migrate',
      state: 'running',
      generation: 1,
      created_by: 'ops',
      created_at: at.toISOString(),
      finished_at: null,
    });
  });
});
