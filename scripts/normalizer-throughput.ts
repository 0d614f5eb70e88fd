/**
 * Notes per second of `normalizeNoteHtml` against plain sanitize-html with the same policy, on one
 * generated corpus, both timed in the same passes (used by `bench:normalize` and `bench`).
 */
import { performance } from 'node:perf_hooks';

import sanitizeHtml from 'sanitize-html';

import { normalizeNoteHtml } from '../src/normalize/normalize-note-html.js';
import { SANITIZE_POLICY } from '../src/normalize/sanitize-policy.js';
import { generateNoteCorpus } from './note-corpus.js';

/** Notes per slice; the two functions alternate slice by slice (see `timeRound`). */
const SLICE = 200;

type Bench = (html: string) => number;

const normalize: Bench = (html) => {
  const result = normalizeNoteHtml(html);
  return result.ok ? result.html.length : -1;
};
const plain: Bench = (html) => sanitizeHtml(html, SANITIZE_POLICY).length;

export interface NormalizerThroughput {
  notes: number;
  meanChars: number;
  mentionShare: number;
  normalizePerSec: number;
  plainPerSec: number;
  /** normalize ÷ plain (notes/s): ≥ 0.8 is the target. */
  ratio: number;
  roundRatios: number[];
  checksum: number;
}

/**
 * One pass of both functions over the whole corpus, alternating every SLICE notes (and which one
 * goes first). On a shared 2-core machine whole-corpus passes drift by ±30% from one pass to the
 * next; interleaving puts both under the same conditions, so their ratio holds steady.
 */
function timeRound(notes: readonly string[]): { normalizeMs: number; plainMs: number; sink: number } {
  let normalizeMs = 0;
  let plainMs = 0;
  let sink = 0;
  for (let start = 0; start < notes.length; start += SLICE) {
    const slice = notes.slice(start, start + SLICE);
    const order: Bench[] = (start / SLICE) % 2 === 0 ? [normalize, plain] : [plain, normalize];
    for (const fn of order) {
      const began = performance.now();
      for (const note of slice) sink += fn(note);
      const ms = performance.now() - began;
      if (fn === normalize) normalizeMs += ms;
      else plainMs += ms;
    }
  }
  return { normalizeMs, plainMs, sink };
}

export function measureNormalizerThroughput(options: {
  count: number;
  seed: number;
  rounds: number;
}): NormalizerThroughput {
  const notes = generateNoteCorpus({
    count: options.count,
    seed: options.seed,
    minChars: 1000,
    maxChars: 2000,
  });
  const totalChars = notes.reduce((sum, n) => sum + n.length, 0);
  const withMentions = notes.filter((n) => n.includes('data-user-id') || n.includes('edit_user')).length;
  timeRound(notes); // warm-up: JIT and caches
  let normalizeMs = 0;
  let plainMs = 0;
  let sink = 0;
  const roundRatios: number[] = [];
  for (let round = 1; round <= options.rounds; round += 1) {
    const r = timeRound(notes);
    normalizeMs += r.normalizeMs;
    plainMs += r.plainMs;
    sink += r.sink;
    roundRatios.push(r.plainMs / r.normalizeMs);
  }
  const perSec = (ms: number) => Math.round((options.rounds * notes.length * 1000) / ms);
  return {
    notes: notes.length,
    meanChars: Math.round(totalChars / notes.length),
    mentionShare: withMentions / notes.length,
    normalizePerSec: perSec(normalizeMs),
    plainPerSec: perSec(plainMs),
    ratio: plainMs / normalizeMs,
    roundRatios,
    checksum: sink,
  };
}
