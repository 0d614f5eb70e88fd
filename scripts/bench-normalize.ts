/**
 * `npm run bench:normalize`: notes per second of `normalizeNoteHtml` against plain sanitize-html
 * with the same policy, on one generated corpus (#3: target ratio ≥ 0.8). Prints; changes nothing.
 */
import os from 'node:os';

import { measureNormalizerThroughput } from './normalizer-throughput.js';

const NOTE_COUNT = 20_000;
const SEED = 20_240_501;
const ROUNDS = 3;
const TARGET_RATIO = 0.8;

const r = measureNormalizerThroughput({ count: NOTE_COUNT, seed: SEED, rounds: ROUNDS });
const fmt = (n: number) => n.toLocaleString('en-US');
const lines = [
  `corpus: ${r.notes} notes, seed ${SEED}, mean ${r.meanChars} chars/note, ${(100 * r.mentionShare).toFixed(0)}% with mentions`,
  `machine: ${os.cpus().length} cores (${os.cpus()[0]?.model ?? 'unknown'}), Node ${process.version}`,
  ...r.roundRatios.map((ratio, i) => `  round ${i + 1}: ratio ${ratio.toFixed(3)}`),
  `normalizeNoteHtml:          ${fmt(r.normalizePerSec)} notes/s (${ROUNDS} passes)`,
  `sanitize-html, same policy: ${fmt(r.plainPerSec)} notes/s (${ROUNDS} passes)`,
  `ratio: ${r.ratio.toFixed(2)} (target >= ${TARGET_RATIO}: ${r.ratio >= TARGET_RATIO ? 'met' : 'NOT met'}) [checksum ${r.checksum}]`,
];
process.stdout.write(lines.join('\n') + '\n');
