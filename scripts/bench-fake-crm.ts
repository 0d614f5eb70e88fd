/**
 * Measures the fake CRM: pages/s served, and the peak memory of the serving process, for one
 * tenant paged through completely. The server runs as its own process (`notes-migrator fake-crm`),
 * so its peak RSS (Linux: VmHWM) is the server's alone. Then the same tenant is read through the
 * HTTP extractor (JSON parse + zod per note) to show what the client costs.
 *
 *   npm run build && node dist/scripts/bench-fake-crm.js --notes 100000 --per-page 1000 --preset clean
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import { request } from 'undici';

import { FAKE_CRM_DEFAULT_AUTH } from '../src/crm/fake/fake-crm-server.js';
import { createHttpCrmNotesExtractor } from '../src/crm/http-crm-notes-extractor.js';
import { createSilentLogger } from '../src/logger.js';

const { values } = parseArgs({
  options: {
    notes: { type: 'string', default: '100000' },
    'per-page': { type: 'string', default: '1000' },
    preset: { type: 'string', default: 'clean' },
  },
});
const notes = Number(values.notes);
const perPage = Number(values['per-page']);
const pages = Math.ceil(notes / perPage);
const cli = path.join(path.dirname(fileURLToPath(import.meta.url)), '../src/cli.js');

const child = spawn(
  process.execPath,
  [
    cli,
    'fake-crm',
    '--port',
    '0',
    '--tenant',
    `bench:co-bench:${notes}:1`,
    '--preset',
    values.preset ?? 'clean',
  ],
  { env: { ...process.env, LOG_LEVEL: 'warn' }, stdio: ['ignore', 'pipe', 'inherit'] },
);
const url = await new Promise<string>((resolve, reject) => {
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString();
    try {
      resolve((JSON.parse(out) as { url: string }).url);
    } catch {
      // Not the whole JSON yet.
    }
  });
  child.once('exit', (code) => reject(new Error(`fake-crm exited with ${code}`)));
});

const peakRssMb = () => {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
    return m ? Math.round(Number(m[1]) / 1024) : null;
  } catch {
    return null;
  }
};

const rssBefore = peakRssMb();
let bytes = 0;
let started = performance.now();
for (let page = 1; page <= pages; page++) {
  const res = await request(`${url}/v1/organizations/bench/person_notes?page=${page}&per_page=${perPage}`, {
    headers: { authorization: FAKE_CRM_DEFAULT_AUTH },
  });
  for await (const chunk of res.body) bytes += (chunk as Buffer).length;
}
const rawSeconds = (performance.now() - started) / 1000;
const rssAfterServing = peakRssMb();

const crm = createHttpCrmNotesExtractor({
  rootUrl: url,
  auth: FAKE_CRM_DEFAULT_AUTH,
  timeoutMs: 30_000,
  maxRetryAfterMs: 1_000,
  logger: createSilentLogger(),
});
started = performance.now();
let valid = 0;
for (let page = 1; page <= pages; page++) {
  const result = await crm.listPersonNotes('bench', page, perPage);
  valid += result.notes.filter((n) => n.ok).length;
}
const clientSeconds = (performance.now() - started) / 1000;
child.kill('SIGTERM');

process.stdout.write(
  `${JSON.stringify(
    {
      notes,
      perPage,
      preset: values.preset,
      served: {
        seconds: +rawSeconds.toFixed(2),
        pagesPerSecond: +(pages / rawSeconds).toFixed(1),
        notesPerSecond: Math.round(notes / rawSeconds),
        megabytes: +(bytes / 1e6).toFixed(1),
      },
      serverPeakRssMb: { atStart: rssBefore, afterServingAll: rssAfterServing },
      throughExtractor: {
        seconds: +clientSeconds.toFixed(2),
        pagesPerSecond: +(pages / clientSeconds).toFixed(1),
        validNotes: valid,
      },
    },
    null,
    2,
  )}\n`,
);
