import { describe, expect, it } from 'vitest';

import type { WaveDoc, WaveMemberDoc } from '../../src/db/documents.js';
import { createMetrics } from '../../src/metrics.js';

const member = (cid: string, state: WaveMemberDoc['state'], progress: number): WaveMemberDoc => ({
  cid,
  company_sso_id: `co-${cid}`,
  state,
  canary: false,
  run_id: null,
  run_ids: [],
  attempts: 1,
  attempt_generation: 1,
  reason: null,
  retry_at: null,
  diagnosis: null,
  progress_pct: progress,
  notes_processed: 0,
  notes_total: null,
  notes_per_s: state === 'running' ? 12.5 : null,
  crm_rate_limited: 0,
  started_at: null,
  finished_at: null,
});

function wave(members: WaveMemberDoc[]): WaveDoc {
  const at = new Date(0);
  return {
    _id: 'w-1',
    kind: 'migrate',
    state: 'running',
    canary: 0,
    max_parallel_tenants: 2,
    stop_after_failed_tenants: 1,
    members,
    generation: 1,
    scheduler: { owner: 'x', epoch: 1, expires_at: at, generation: 1 },
    pause: null,
    cancel: null,
    fleet: { sampled_at: at, budget: null, requests_per_s: 3.5, rate_limited_per_s: 0, notes_per_s: 25 },
    created_by: 't',
    created_at: at,
    updated_at: at,
    finished_at: null,
  };
}

describe('wave and budget metrics (#16)', () => {
  it('exports the budget rate, its waits by kind and 429s by tenant (bounded labels)', async () => {
    const m = createMetrics({ defaultMetrics: false });
    m.crmBudget.rate?.(3.6);
    m.crmBudget.waited?.(0.25, { cid: '1', kind: 'page' });
    m.crmBudget.rateLimited?.({ cid: '1001', kind: 'page' });
    m.crmBudget.rateLimited?.({ cid: '../x', kind: 'probe' });
    const text = await m.registry.metrics();
    expect(text).toContain('cnm_crm_budget_rate 3.6');
    expect(text).toContain('cnm_crm_budget_wait_seconds_count{kind="page"} 1');
    expect(text).toContain('cnm_crm_rate_limited_total{cid="1001"} 1');
    expect(text).toContain('cnm_crm_rate_limited_total{cid="other"} 1');
  });

  it('shows running members only, and removes a wave’s series when it ends', async () => {
    const m = createMetrics({ defaultMetrics: false });
    m.waves.sampled?.(
      wave([member('1', 'running', 40), member('2', 'running', 10), member('3', 'pending', 0)]),
    );
    let text = await m.registry.metrics();
    expect(text).toContain('cnm_wave_member_progress_pct{wave_id="w-1",cid="1"} 40');
    expect(text).toContain('cnm_wave_member_notes_per_second{wave_id="w-1",cid="2"} 12.5');
    expect(text).toContain('cnm_wave_members{wave_id="w-1",state="running"} 2');
    expect(text).toContain('cnm_crm_fleet_requests_per_second 3.5');
    m.waves.sampled?.(
      wave([member('1', 'completed_success', 100), member('2', 'running', 60), member('3', 'running', 0)]),
    );
    text = await m.registry.metrics();
    expect(text).not.toContain('cid="1"');
    expect(text).toContain('cnm_wave_member_progress_pct{wave_id="w-1",cid="3"} 0');
    m.waves.ended?.('w-1');
    text = await m.registry.metrics();
    expect(text).not.toMatch(/wave_id="w-1"/);
  });
});
