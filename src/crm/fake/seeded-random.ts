/**
 * Deterministic randomness for the fake CRM. Everything about note i is derived from
 * `mixSeed(tenantSeed, i, salt)`, so note i can be produced without producing notes 0..i-1, and
 * the same seed always gives the same bytes. Seeding is O(1) (faker's default Mersenne Twister
 * costs ~30 µs per reseed, which would dominate a 100,000-note tenant).
 */
import type { Randomizer } from '@faker-js/faker';

/** 32-bit FNV-1a of a string: turns a CID into a number. */
export function hashString(value: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < value.length; i++) {
    h ^= value.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** murmur3's finalizer: a good 32-bit avalanche. */
function fmix32(x: number): number {
  let h = x >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Combines integers (any size, sign) into one 32-bit seed; order matters. */
export function mixSeed(...parts: number[]): number {
  let h = 0x9e3779b9;
  for (const part of parts) {
    // Split into 32-bit halves so ids above 2^32 still mix fully.
    const lo = (part % 0x1_0000_0000) >>> 0;
    const hi = Math.floor(part / 0x1_0000_0000) >>> 0;
    h = fmix32(h ^ fmix32(lo + 0x7f4a7c15));
    h = fmix32(h ^ fmix32(hi + 0x2545f491));
  }
  return h;
}

export interface SeededRandom {
  /** Uniform in [0, 1). */
  next(): number;
  /** Uniform integer in [min, max]. */
  int(min: number, max: number): number;
  chance(probability: number): boolean;
  pick<T>(items: readonly T[]): T;
  /** `entries` are [value, weight]; weights need not sum to 1. */
  weighted<T>(entries: ReadonlyArray<readonly [T, number]>): T;
}

/** mulberry32: tiny, fast, and plenty for test data. */
export function createSeededRandom(seed: number): SeededRandom {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 0x1_0000_0000;
  };
  const random: SeededRandom = {
    next,
    int: (min, max) => min + Math.floor(next() * (max - min + 1)),
    // Always consumes one draw, so changing one share does not reshuffle every later draw.
    chance: (p) => next() < p,
    pick: (items) => {
      const item = items[Math.floor(next() * items.length)];
      if (item === undefined) throw new Error('pick: empty list');
      return item;
    },
    weighted: (entries) => {
      const total = entries.reduce((sum, [, w]) => sum + w, 0);
      let u = next() * total;
      for (const [value, weight] of entries) {
        if (u < weight) return value;
        u -= weight;
      }
      const last = entries[entries.length - 1];
      if (!last) throw new Error('weighted: empty list');
      return last[0];
    },
  };
  return random;
}

/** The golden ratio's fractional part: the most evenly spreading irrational step. */
const GOLDEN_STEP = 0.6180339887498949;

/**
 * A low-discrepancy value in [0, 1) for index i (a Weyl sequence). Used to plant failures: any
 * window of N consecutive notes holds share·N ± 2 of a category (measured up to N = 1,000), so a
 * realistic tenant never bunches its failures on one page and trips the 1% halt by bad luck.
 */
export function spreadUnit(seed: number, index: number): number {
  const offset = mixSeed(seed, 0x5eed) / 0x1_0000_0000;
  const v = offset + index * GOLDEN_STEP;
  return v - Math.floor(v);
}

/** A faker `Randomizer` backed by mulberry32, reseedable in O(1). */
export function createFakerRandomizer(): Randomizer {
  let random = createSeededRandom(0);
  return {
    next: () => random.next(),
    seed: (seed) => {
      random = createSeededRandom(Array.isArray(seed) ? mixSeed(...seed) : mixSeed(seed));
    },
  };
}
