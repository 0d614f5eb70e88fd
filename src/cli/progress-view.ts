/**
 * Renders run status updates for a terminal: a progress bar (cli-progress) on a TTY, one line per
 * update otherwise (logs, CI).
 */
import type { Writable } from 'node:stream';

import cliProgress from 'cli-progress';

import type { DiagnosisDoc } from '../db/documents.js';
import type { ForecastView } from '../migration/forecast.js';

export interface StatusUpdate {
  status: string;
  progress_pct?: number;
  notes_processed?: number;
  notes_total?: number | null;
  notes_migrated?: number;
  notes_failed?: number;
  failure_rate?: number;
  halt_diagnosis?: DiagnosisDoc | null;
  forecast?: ForecastView | null;
}

export interface ProgressView {
  update(s: StatusUpdate): void;
  stop(): void;
}

export function createProgressView(stream: Writable & { isTTY?: boolean }, label: string): ProgressView {
  if (!stream.isTTY) {
    let last = '';
    return {
      update(s) {
        const line = `${label} ${s.status} ${(s.progress_pct ?? 0).toFixed(1)}% ${s.notes_processed ?? 0}/${s.notes_total ?? '?'} notes, ${s.notes_failed ?? 0} failed`;
        if (line !== last) stream.write(`${line}\n`);
        last = line;
      },
      stop() {},
    };
  }
  const bar = new cliProgress.SingleBar(
    {
      stream,
      format: `${label} [{bar}] {percentage}% | {value}/{total} notes | {migrated} migrated, {failed} failed ({rate}) | {status}`,
      hideCursor: true,
      clearOnComplete: false,
    },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  return {
    update(s) {
      const total = s.notes_total ?? 0;
      const payload = {
        migrated: s.notes_migrated ?? 0,
        failed: s.notes_failed ?? 0,
        rate: `${((s.failure_rate ?? 0) * 100).toFixed(2)}%`,
        status: s.status,
      };
      if (!started) {
        bar.start(total, s.notes_processed ?? 0, payload);
        started = true;
      } else {
        bar.setTotal(total);
        bar.update(s.notes_processed ?? 0, payload);
      }
    },
    stop() {
      if (started) bar.stop();
    },
  };
}
