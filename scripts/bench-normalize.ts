/**
 * `npm run bench:normalize`: notes per second of `normalizeNoteHtml` against plain sanitize-html
 * with the same policy, on one generated corpus (#3: target ratio ≥ 0.8). Prints; changes nothing.
 */
import os from 'node:os';
import { performance } from 'node:perf_hooks';

import sanitizeHtml from 'sanitize-html';

import { normalizeNoteHtml } from '../src/normalize/normalize-note-html.js';
import { SANITIZE_POLICY } from '../src/normalize/sanitize-policy.js';
import { generateNoteCorpus } from './note-corpus.js';

const NOTE_COUNT = 20_000;
const SEED = 20_240_501;
const ROUNDS = 3;
/** Notes per slice; the two functions alternate slice by slice (see `timeRound`). */
const SLICE = 200;
const TARGET_RATIO = 0.8;

type Bench = (html: string) => number;

const normalize: Bench = (html) => {
  const result = normalizeNoteHtml(html);
  return result.ok ? result.html.length : -1;
};
const plain: Bench = (html) => sanitizeHtml(html, SANITIZE_POLICY).length;

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

const notes = generateNoteCorpus({ count: NOTE_COUNT, seed: SEED, minChars: 1000, maxChars: 2000 });
const totalChars = notes.reduce((sum, n) => sum + n.length, 0);
const withMentions = notes.filter((n) => n.includes('data-user-id') || n.includes('edit_user')).length;
console.log(
  `corpus: ${notes.length} notes, seed ${SEED}, mean ${(totalChars / notes.length).toFixed(0)} chars/note, ` +
    `${((100 * withMentions) / notes.length).toFixed(0)}% with mentions`,
);
console.log(
  `machine: ${os.cpus().length} cores (${os.cpus()[0]?.model ?? 'unknown'}), Node ${process.version}`,
);

timeRound(notes); // warm-up: JIT and caches
let normalizeMs = 0;
let plainMs = 0;
let sink = 0;
for (let round = 1; round <= ROUNDS; round += 1) {
  const r = timeRound(notes);
  normalizeMs += r.normalizeMs;
  plainMs += r.plainMs;
  sink += r.sink;
  console.log(`  round ${round}: ratio ${(r.plainMs / r.normalizeMs).toFixed(3)}`);
}

const fmt = (ms: number): string => Math.round((ROUNDS * notes.length * 1000) / ms).toLocaleString('en-US');
const ratio = plainMs / normalizeMs;
console.log(`normalizeNoteHtml:          ${fmt(normalizeMs)} notes/s (${ROUNDS} passes)`);
console.log(`sanitize-html, same policy: ${fmt(plainMs)} notes/s (${ROUNDS} passes)`);
console.log(
  `ratio: ${ratio.toFixed(2)} (target >= ${TARGET_RATIO}: ${ratio >= TARGET_RATIO ? 'met' : 'NOT met'})` +
    ` [checksum ${sink}]`,
);
