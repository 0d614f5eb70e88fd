/**
 * A count of distinct ids (a forecast's persons seen / found, #13) that fits on a run document
 * and resumes exactly after a crash: the ids themselves while there are at most
 * `EXACT_IDS_MAX`, then a HyperLogLog sketch (Flajolet et al. 2007, with linear counting for
 * small ranges). Adding an id twice never changes either form, so a replayed page adds nothing.
 * Hand-written (≈60 lines) because the npm HyperLogLog packages are unmaintained or not
 * serialisable; pure, no I/O.
 */
import { createHash } from 'node:crypto';

import type { DistinctCountDoc } from '../db/documents.js';

/**
 * Ids kept as they are: up to 2,000 (~30 KB on the run document, rewritten per page); a
 * 5,000-note tenant has ~1,300 persons, so small tenants are counted exactly.
 */
export const EXACT_IDS_MAX = 2_000;
/** 2^12 registers: 4 KiB (5.5 KB in base64), standard error 1.04/√4096 ≈ 1.6 %. */
const SKETCH_BITS = 12;
const REGISTERS = 1 << SKETCH_BITS;
const ALPHA = 0.7213 / (1 + 1.079 / REGISTERS);

export const EMPTY_DISTINCT_COUNT: Readonly<DistinctCountDoc> = { ids: [], sketch: null };

/** The count with `ids` added (a new document; the input is not changed). */
export function addDistinct(doc: DistinctCountDoc, ids: Iterable<string>): DistinctCountDoc {
  if (doc.sketch === null && doc.ids !== null) {
    const set = new Set(doc.ids);
    for (const id of ids) set.add(id);
    if (set.size <= EXACT_IDS_MAX) return { ids: [...set], sketch: null };
    return { ids: null, sketch: encode(sketchOf(set, new Uint8Array(REGISTERS))) };
  }
  const registers = doc.sketch === null ? new Uint8Array(REGISTERS) : decode(doc.sketch);
  return { ids: null, sketch: encode(sketchOf(ids, registers)) };
}

/** How many distinct ids, and whether that is exact or an estimate (±1.6 %). */
export function distinctCountOf(doc: DistinctCountDoc): { count: number; exact: boolean } {
  if (doc.sketch === null) return { count: doc.ids?.length ?? 0, exact: true };
  return { count: estimate(decode(doc.sketch)), exact: false };
}

function sketchOf(ids: Iterable<string>, registers: Uint8Array): Uint8Array {
  for (const id of ids) {
    const h = createHash('sha256').update(id).digest().readBigUInt64BE(0);
    const index = Number(h >> BigInt(64 - SKETCH_BITS));
    const rest = (h << BigInt(SKETCH_BITS)) & 0xffff_ffff_ffff_ffffn;
    const rank = rest === 0n ? 64 - SKETCH_BITS + 1 : 64 - rest.toString(2).length + 1;
    if (rank > (registers[index] ?? 0)) registers[index] = rank;
  }
  return registers;
}

function estimate(registers: Uint8Array): number {
  let sum = 0;
  let zeros = 0;
  for (const r of registers) {
    sum += 2 ** -r;
    if (r === 0) zeros++;
  }
  const raw = (ALPHA * REGISTERS * REGISTERS) / sum;
  // Small range: linear counting is far more accurate while many registers are still empty.
  if (raw <= 2.5 * REGISTERS && zeros > 0) return Math.round(REGISTERS * Math.log(REGISTERS / zeros));
  return Math.round(raw);
}

const encode = (registers: Uint8Array) => Buffer.from(registers).toString('base64');

function decode(sketch: string): Uint8Array {
  const bytes = Buffer.from(sketch, 'base64');
  if (bytes.length !== REGISTERS) throw new Error(`distinct count: a sketch has ${REGISTERS} registers`);
  return new Uint8Array(bytes);
}
