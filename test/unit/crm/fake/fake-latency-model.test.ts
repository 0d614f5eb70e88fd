import { describe, expect, it } from 'vitest';

import { resolveFakeCrmBehaviour } from '../../../../src/crm/fake/fake-crm-behaviour.js';
import {
  drawFakeLatency,
  fakeLatencyMedianMs,
  type FakeLatencyRequest,
} from '../../../../src/crm/fake/fake-latency-model.js';

const realistic = resolveFakeCrmBehaviour({ preset: 'realistic' });
const DRAWS = 20_000;

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

/** `DRAWS` requests for full 500-note pages, each a distinct (page, repeat). */
function drawMany(seed: number, latency = realistic.latency) {
  const draws = [];
  for (let i = 0; i < DRAWS; i++) {
    const request: FakeLatencyRequest = {
      cid: '1001',
      page: 1 + (i % 200),
      perPage: 500,
      notesOnPage: 500,
      repeat: Math.floor(i / 200),
    };
    draws.push(drawFakeLatency({ ...latency, deepPageMsPerPage: 0 }, seed, request));
  }
  return draws;
}

describe('fake CRM latency model', () => {
  it('puts the median of a 500-note page at 920 ms and the p95 at 1.93 s (σ 0.45), within 3 %', () => {
    expect(fakeLatencyMedianMs(realistic.latency, 500)).toBe(920);
    const body = drawMany(7)
      .map((d) => d.bodyMs)
      .sort((a, b) => a - b);
    // Sampling error of these quantiles at n = 20,000 is under 1 %.
    expect(Math.abs(quantile(body, 0.5) / 920 - 1)).toBeLessThan(0.03);
    const p95 = 920 * Math.exp(1.6449 * 0.45);
    expect(Math.abs(quantile(body, 0.95) / p95 - 1)).toBeLessThan(0.03);
    const p99 = 920 * Math.exp(2.3263 * 0.45);
    expect(Math.abs(quantile(body, 0.99) / p99 - 1)).toBeLessThan(0.05);
  });

  it('adds the +5–15 s tail to 0.5 % of requests, and the whole latency keeps its median and p95', () => {
    const draws = drawMany(11);
    const tails = draws.filter((d) => d.tailMs > 0);
    // Expected 100 of 20,000; a binomial's 3σ is ±30.
    expect(tails.length).toBeGreaterThan(70);
    expect(tails.length).toBeLessThan(130);
    for (const t of tails) {
      expect(t.tailMs).toBeGreaterThanOrEqual(5_000);
      expect(t.tailMs).toBeLessThanOrEqual(15_000);
    }
    const whole = draws.map((d) => d.latencyMs).sort((a, b) => a - b);
    expect(Math.abs(quantile(whole, 0.5) / 920 - 1)).toBeLessThan(0.03);
    expect(Math.abs(quantile(whole, 0.95) / 1930 - 1)).toBeLessThan(0.05);
    expect(quantile(whole, 0.999)).toBeGreaterThan(5_000);
  });

  it('grows the median with the page: 121.6 ms for the one-note probe, 280 ms at 100 notes', () => {
    expect(fakeLatencyMedianMs(realistic.latency, 1)).toBeCloseTo(121.6, 6);
    expect(fakeLatencyMedianMs(realistic.latency, 100)).toBeCloseTo(280, 6);
    const flat = { ...realistic.latency, sigma: 0, tailShare: 0, deepPageMsPerPage: 0 };
    const at = (notesOnPage: number) =>
      drawFakeLatency(flat, 1, { cid: 'x', page: 1, perPage: 500, notesOnPage, repeat: 0 }).latencyMs;
    expect([at(0), at(1), at(500)]).toEqual([120, 122, 920]);
  });

  it('adds the deep-page penalty per page beyond the first', () => {
    const request = { cid: 'x', page: 201, perPage: 500, notesOnPage: 500, repeat: 0 };
    const without = drawFakeLatency({ ...realistic.latency, deepPageMsPerPage: 0 }, 3, request);
    const withPenalty = drawFakeLatency(realistic.latency, 3, request);
    expect(withPenalty.deepPageMs).toBeCloseTo(40, 6);
    expect(withPenalty.latencyMs - without.latencyMs).toBeGreaterThanOrEqual(39);
    expect(withPenalty.latencyMs - without.latencyMs).toBeLessThanOrEqual(41);
  });

  it('is deterministic: the same seed and request give the same draw, in any order; another seed differs', () => {
    const keys = Array.from({ length: 50 }, (_, i) => ({
      cid: i % 2 ? 'a' : 'b',
      page: 1 + (i % 7),
      perPage: 500,
      notesOnPage: 500,
      repeat: i % 3,
    }));
    const forward = keys.map((k) => drawFakeLatency(realistic.latency, 42, k).latencyMs);
    const backward = [...keys]
      .reverse()
      .map((k) => drawFakeLatency(realistic.latency, 42, k).latencyMs)
      .reverse();
    expect(backward).toEqual(forward);
    const other = keys.map((k) => drawFakeLatency(realistic.latency, 43, k).latencyMs);
    expect(other).not.toEqual(forward);
  });

  it('gives a repeated request (a retry) a fresh draw', () => {
    const base = { cid: 'a', page: 3, perPage: 500, notesOnPage: 500 };
    const draws = [0, 1, 2, 3].map(
      (repeat) => drawFakeLatency(realistic.latency, 5, { ...base, repeat }).latencyMs,
    );
    expect(new Set(draws).size).toBe(4);
  });

  it('draws nothing with the instant preset', () => {
    const instant = resolveFakeCrmBehaviour().latency;
    expect(
      drawFakeLatency(instant, 1, { cid: 'a', page: 9, perPage: 500, notesOnPage: 500, repeat: 0 }).latencyMs,
    ).toBe(0);
  });
});
