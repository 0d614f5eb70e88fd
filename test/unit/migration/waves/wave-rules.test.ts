import { describe, expect, it } from 'vitest';

import type { WaveDoc, WaveMemberDiagnosisDoc, WaveMemberDoc } from '../../../../src/db/documents.js';
import { canaryGateOf, isWaiting, planWave } from '../../../../src/migration/waves/wave-rules.js';
import { makeWaveMember } from '../../../fixtures/builders.js';

const member = makeWaveMember;

function wave(members: Partial<WaveMemberDoc>[], overrides: Partial<WaveDoc> = {}): WaveDoc {
  const now = new Date(0);
  return {
    _id: 'w',
    kind: 'migrate',
    state: 'running',
    canary: 1,
    max_parallel_tenants: 2,
    stop_after_failed_tenants: 1,
    members: members.map((m, i) => member({ cid: String(i + 1), ...m })),
    generation: 1,
    scheduler: { owner: null, epoch: 0, expires_at: now, generation: 0 },
    pause: null,
    cancel: null,
    fleet: null,
    created_by: 't',
    created_at: now,
    updated_at: now,
    finished_at: null,
    ...overrides,
  };
}

const done = { state: 'completed_success' as const, attempt_generation: 1 };
const running = { state: 'running' as const, attempt_generation: 1 };

describe('wave rules: canaries', () => {
  it('starts the first member alone as the canary, then nothing until it succeeded', () => {
    expect(planWave(wave([{}, {}, {}]), 0).start).toEqual([{ index: 0, canary: true }]);
    expect(planWave(wave([{ ...running, canary: true }, {}, {}]), 0).start).toEqual([]);
    expect(planWave(wave([{ ...done, canary: true }, {}, {}]), 0).start).toEqual([
      { index: 1, canary: false },
      { index: 2, canary: false },
    ]);
  });

  it('makes the next member a canary when one was skipped, and starts several canaries up to the parallel limit', () => {
    const w = wave([{ state: 'skipped' }, {}, {}, {}], { canary: 2, max_parallel_tenants: 3 });
    expect(planWave(w, 0).start).toEqual([
      { index: 1, canary: true },
      { index: 2, canary: true },
    ]);
  });

  it('with canary 0 starts up to max_parallel members at once', () => {
    expect(planWave(wave([{}, {}, {}], { canary: 0 }), 0).start.map((s) => s.index)).toEqual([0, 1]);
  });

  it('says where the gate stands', () => {
    expect(canaryGateOf(wave([{}], { canary: 0 }))).toBe('none');
    expect(canaryGateOf(wave([{ ...running, canary: true }, {}]))).toBe('waiting');
    expect(canaryGateOf(wave([{ ...done, canary: true }, {}]))).toBe('open');
    expect(canaryGateOf(wave([{ state: 'halted', attempt_generation: 1, canary: true }, {}]))).toBe('failed');
    expect(canaryGateOf(wave([{ state: 'skipped' }, { state: 'skipped' }]))).toBe('open');
  });
});

describe('wave rules: stop rule and resume', () => {
  it('pauses on a canary that did not succeed, listing it', () => {
    const plan = planWave(
      wave([{ state: 'completed_with_errors', attempt_generation: 1, canary: true }, {}]),
      0,
    );
    expect(plan.pause).toMatchObject({ cause: 'canary_failed', members: [0] });
    expect(plan.start).toEqual([]);
  });

  it('pauses after k halted or failed members of this generation, not before', () => {
    const halted = { state: 'halted' as const, attempt_generation: 1 };
    const failed = { state: 'failed' as const, attempt_generation: 1 };
    const options = { canary: 0, stop_after_failed_tenants: 2, max_parallel_tenants: 3 };
    expect(planWave(wave([halted, {}, {}], options), 0)).toMatchObject({ pause: null });
    expect(planWave(wave([halted, failed, {}], options), 0).pause).toMatchObject({
      cause: 'stop_rule',
      members: [0, 1],
    });
  });

  it('after a resume (a new generation) retries what stopped the wave and does not count it again', () => {
    const w = wave(
      [{ state: 'halted', attempt_generation: 1 }, { ...done }, { state: 'failed', attempt_generation: 1 }],
      { canary: 0, generation: 2 },
    );
    const plan = planWave(w, 0);
    expect(plan.pause).toBeNull();
    expect(plan.start.map((s) => s.index)).toEqual([0, 2]);
    expect(isWaiting(member({ state: 'completed_with_errors', attempt_generation: 1 }), 2, 0)).toBe(false);
    expect(
      isWaiting(member({ state: 'completed_with_errors', attempt_generation: 1, canary: true }), 2, 0),
    ).toBe(true);
  });

  it('waits for a refused member until its retry time', () => {
    const w = wave([{ retry_at: new Date(1_000) }], { canary: 0 });
    expect(planWave(w, 999).start).toEqual([]);
    expect(planWave(w, 1_000).start).toEqual([{ index: 0, canary: false }]);
  });

  it('is idle once every member has an outcome, and not while one is pending or running', () => {
    expect(planWave(wave([done, { state: 'skipped' }], { canary: 0 }), 0).idle).toBe(true);
    expect(planWave(wave([done, running], { canary: 0 }), 0).idle).toBe(false);
    expect(planWave(wave([done, {}], { canary: 0, state: 'paused' }), 0)).toMatchObject({
      idle: false,
      start: [],
    });
  });
});

describe('wave rules: a dry-run wave', () => {
  /** A finished dry run whose forecast says the real run would halt on its first page. */
  const wouldHalt: WaveMemberDiagnosisDoc = {
    cause: null,
    halt_reason: null,
    failure_rate: 0.9,
    error: null,
    would_halt: { page: 1, trigger: 'systemic', reason: 'systemic: CONTACT_NOT_MAPPED' },
  };
  const forecastHalt = { ...done, diagnosis: wouldHalt };

  it('holds the gate and pauses on a canary whose forecast says a real run would halt', () => {
    const w = wave([{ ...forecastHalt, canary: true }, {}], { kind: 'dry_run' });
    expect(canaryGateOf(w)).toBe('failed');
    const plan = planWave(w, 0);
    expect(plan.start).toEqual([]);
    expect(plan.pause).toMatchObject({ cause: 'canary_failed', members: [0] });
  });

  it('counts a would-halt forecast toward the stop rule, and a resume forecasts that tenant again', () => {
    const options = {
      kind: 'dry_run' as const,
      canary: 0,
      stop_after_failed_tenants: 2,
      max_parallel_tenants: 3,
    };
    expect(planWave(wave([forecastHalt, done, {}], options), 0)).toMatchObject({ pause: null });
    const paused = planWave(wave([forecastHalt, done, forecastHalt, {}], options), 0);
    expect(paused.pause).toMatchObject({ cause: 'stop_rule', members: [0, 2] });
    expect(paused.pause?.message).toMatch(/halted or failed or would halt/);
    const resumed = planWave(wave([forecastHalt, done, forecastHalt], { ...options, generation: 2 }), 0);
    expect(resumed.start.map((s) => s.index)).toEqual([0, 2]);
  });
});
