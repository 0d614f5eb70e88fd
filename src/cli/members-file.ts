/**
 * The members file of `notes-migrator wave start --file` (#16): CSV (RFC 4180, parsed by
 * csv-parse) with a header naming `cid` and `company_sso_id`; other columns are ignored. Judged
 * whole before anything is sent: every bad line is reported with its number, and nothing is
 * accepted that the API would refuse (the same CID and company-id rules, each CID once).
 */
import { CsvError, parse } from 'csv-parse/sync';

import { COMPANY_SSO_ID_PATTERN } from '../http/parse-input.js';
import { MAX_WAVE_MEMBERS } from '../http/wave-routes.js';
import { ownValue } from '../own-properties.js';
import { parseCid } from './cli-values.js';

/** A members file of MAX_WAVE_MEMBERS lines of ~60 bytes, with room for extra columns. */
export const MAX_MEMBERS_FILE_BYTES = 2 * 1024 * 1024;
/** At most this many problems are listed (a wrong file would otherwise print thousands). */
const MAX_PROBLEMS = 20;

export interface WaveMemberInput {
  cid: string;
  company_sso_id: string;
}

interface ParsedRecord {
  record: Record<string, string>;
  info: { lines: number };
}

export type MembersFileResult = { ok: true; members: WaveMemberInput[] } | { ok: false; problems: string[] };

export function parseMembersFile(bytes: Uint8Array, name: string): MembersFileResult {
  if (bytes.length > MAX_MEMBERS_FILE_BYTES) {
    return {
      ok: false,
      problems: [
        `${name} is ${bytes.length} bytes; a members file may have at most ${MAX_MEMBERS_FILE_BYTES}`,
      ],
    };
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return {
      ok: false,
      problems: [`${name} is not UTF-8 text (a CSV file with a cid,company_sso_id header)`],
    };
  }
  let records: ParsedRecord[];
  try {
    // With `info: true` each element is the record and where it was read.
    records = parse<ParsedRecord>(text, {
      columns: (header: string[]) => header.map((h) => h.trim().toLowerCase()),
      bom: true,
      info: true,
      trim: true,
      skip_empty_lines: true,
      record_delimiter: ['\r\n', '\n'],
      max_record_size: 4096,
    });
  } catch (e) {
    const where = e instanceof CsvError && typeof e.lines === 'number' ? ` (line ${e.lines})` : '';
    return {
      ok: false,
      problems: [`${name} is not valid CSV${where}: ${e instanceof Error ? e.message : String(e)}`],
    };
  }
  return membersOf(records, name);
}

function membersOf(
  records: { record: Record<string, string>; info: { lines: number } }[],
  name: string,
): MembersFileResult {
  const first = records[0];
  if (!first)
    return {
      ok: false,
      problems: [`${name} lists no members (expected a cid,company_sso_id header and one line per tenant)`],
    };
  const columns = Object.keys(first.record);
  if (!columns.includes('cid') || !columns.includes('company_sso_id')) {
    return {
      ok: false,
      problems: [
        `${name}: the header must name the columns cid and company_sso_id, got ${JSON.stringify(columns.slice(0, 10))}`,
      ],
    };
  }
  if (records.length > MAX_WAVE_MEMBERS) {
    return {
      ok: false,
      problems: [
        `${name} lists ${records.length} members; a wave may have at most ${MAX_WAVE_MEMBERS} (split it into waves)`,
      ],
    };
  }
  const problems: string[] = [];
  const seen = new Map<string, number>();
  const members: WaveMemberInput[] = [];
  for (const { record, info } of records) {
    const line = info.lines;
    const rawCid = ownValue(record, 'cid') ?? '';
    const company = ownValue(record, 'company_sso_id') ?? '';
    const cid = parseCid(rawCid, 'cid');
    if (!cid.ok) problems.push(`${name} line ${line}: ${cid.message}`);
    if (!COMPANY_SSO_ID_PATTERN.test(company)) {
      problems.push(
        `${name} line ${line}: company_sso_id must be 1-128 characters of A-Z a-z 0-9 . _ : @ - (starting with a letter or digit), got ${JSON.stringify(company.slice(0, 60))}`,
      );
    }
    if (!cid.ok) continue;
    const earlier = seen.get(cid.value);
    if (earlier !== undefined)
      problems.push(`${name} line ${line}: cid ${cid.value} is listed already on line ${earlier}`);
    else seen.set(cid.value, line);
    members.push({ cid: cid.value, company_sso_id: company });
  }
  if (problems.length > 0) {
    const shown = problems.slice(0, MAX_PROBLEMS);
    if (problems.length > MAX_PROBLEMS) shown.push(`… and ${problems.length - MAX_PROBLEMS} more problems`);
    return { ok: false, problems: shown };
  }
  return { ok: true, members };
}
