import { describe, expect, it } from 'vitest';

import {
  applyFakeCrmBehaviourSetting,
  FAKE_CRM_BEHAVIOUR_PRESETS,
  type FakeCrmBehaviourOptions,
  resolveFakeCrmBehaviour,
} from '../../../../src/crm/fake/fake-crm-behaviour.js';
import { ValidationError } from '../../../../src/errors.js';

describe('fake CRM behaviour presets', () => {
  it('defaults to instant: no latency, no rate limit, no concurrency cap', () => {
    const b = resolveFakeCrmBehaviour();
    expect(b.preset).toBe('instant');
    expect(b.latency).toMatchObject({ baseMs: 0, perNoteMs: 0, tailShare: 0, deepPageMsPerPage: 0 });
    expect(b.rateLimit).toMatchObject({ windowLimit: 0, perSecondLimit: 0 });
    expect(b.concurrency.servedAtOnce).toBe(0);
  });

  it('carries the figures of RESEARCH-SCALE §7.1 in realistic', () => {
    expect(resolveFakeCrmBehaviour({ preset: 'realistic' })).toEqual({
      preset: 'realistic',
      seed: 1,
      latency: {
        baseMs: 120,
        perNoteMs: 1.6,
        sigma: 0.45,
        tailShare: 0.005,
        tailMinMs: 5_000,
        tailMaxMs: 15_000,
        deepPageMsPerPage: 0.2,
        applyToFiles: false,
      },
      rateLimit: {
        windowMs: 10_000,
        windowLimit: 200,
        perSecondLimit: 40,
        countRejected: false,
        policyName: 'TEN_SECONDLY_ROLLING',
      },
      concurrency: { servedAtOnce: 8, maxQueued: 16, overflowStatus: 429 },
    });
  });

  it.each(FAKE_CRM_BEHAVIOUR_PRESETS)('resolves the %s preset', (preset) => {
    expect(resolveFakeCrmBehaviour({ preset }).preset).toBe(preset);
  });

  it('limits slow to 0.5 requests per second sustained', () => {
    const { rateLimit } = resolveFakeCrmBehaviour({ preset: 'slow' });
    expect((rateLimit.windowLimit * 1000) / rateLimit.windowMs).toBe(0.5);
  });

  it('applies overrides field by field on top of the preset', () => {
    const b = resolveFakeCrmBehaviour({
      preset: 'realistic',
      seed: 9,
      latency: { sigma: 0.6 },
      rateLimit: { windowLimit: 50 },
    });
    expect(b).toMatchObject({
      seed: 9,
      latency: { sigma: 0.6, baseMs: 120 },
      rateLimit: { windowLimit: 50, perSecondLimit: 40 },
    });
  });

  it('lists every bad value at once', () => {
    const error = (() => {
      try {
        resolveFakeCrmBehaviour({
          latency: { sigma: -1, tailShare: 2, tailMinMs: 10, tailMaxMs: 5 },
          rateLimit: { windowMs: 0, windowLimit: 1.5 },
          concurrency: { overflowStatus: 500 as 429 },
        });
      } catch (e) {
        return e;
      }
      return null;
    })();
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).details.problems).toEqual([
      'latency.sigma must be ≥ 0, got -1',
      'latency.tailShare must be a fraction from 0 to 1, got 2',
      'latency.tailMinMs must be ≤ latency.tailMaxMs (5), got 10',
      'rateLimit.windowMs must be a positive integer, got 0',
      'rateLimit.windowLimit must be a non-negative integer, got 1.5',
      'concurrency.overflowStatus must be 429 or 503, got 500',
    ]);
    expect(() => resolveFakeCrmBehaviour({ preset: 'zoho' as 'slow' })).toThrow(
      'preset must be one of instant, realistic, hubspot-like, pipedrive-like, slow, got "zoho"',
    );
  });

  it('reads CLI settings key=value by the type of the field', () => {
    const options: FakeCrmBehaviourOptions = { preset: 'realistic' };
    for (const s of [
      'seed=7',
      'latency.sigma=0.6',
      'latency.applyToFiles=true',
      'rateLimit.windowLimit=100',
      'rateLimit.policyName=DAILY',
      'concurrency.overflowStatus=503',
    ]) {
      applyFakeCrmBehaviourSetting(options, s);
    }
    expect(options).toEqual({
      preset: 'realistic',
      seed: 7,
      latency: { sigma: 0.6, applyToFiles: true },
      rateLimit: { windowLimit: 100, policyName: 'DAILY' },
      concurrency: { overflowStatus: 503 },
    });
    expect(() => applyFakeCrmBehaviourSetting(options, 'latency.median=3')).toThrow(
      /unknown behaviour setting "latency.median"; known: seed, latency.baseMs/,
    );
    expect(() => applyFakeCrmBehaviourSetting(options, 'latency.sigma=wide')).toThrow(
      'latency.sigma must be a number, got "wide"',
    );
    expect(() => applyFakeCrmBehaviourSetting(options, 'rateLimit.countRejected=yes')).toThrow(
      'must be true or false',
    );
    expect(() => applyFakeCrmBehaviourSetting(options, 'sigma')).toThrow('key=value');
    // Inherited names are not fields (#18): `in` would have let them through.
    for (const key of ['latency.constructor', 'latency.__proto__', 'rateLimit.toString']) {
      expect(() => applyFakeCrmBehaviourSetting(options, `${key}=1`), key).toThrow(
        /unknown behaviour setting/,
      );
    }
    expect(Object.keys(options.latency ?? {})).toEqual(['sigma', 'applyToFiles']);
  });
});
