/**
 * Parsing of CLI argument values, with messages that name the option and the bad value.
 */
export type Parsed<T> = { ok: true; value: T } | { ok: false; message: string };

/** A CID is a positive integer (CRM organisation ids), kept as a string. */
export function parseCid(raw: string, option = '--cid'): Parsed<string> {
  const v = raw.trim();
  if (!/^[1-9]\d{0,18}$/.test(v))
    return { ok: false, message: `${option} must be a positive integer, got ${JSON.stringify(raw)}` };
  return { ok: true, value: v };
}

export function parsePositiveInt(raw: string, option: string): Parsed<number> {
  const n = Number(raw);
  if (!/^\d+$/.test(raw.trim()) || !Number.isSafeInteger(n) || n < 1) {
    return { ok: false, message: `${option} must be a positive integer, got ${JSON.stringify(raw)}` };
  }
  return { ok: true, value: n };
}

/** A run id as the API accepts it (1–64 characters of `A-Z a-z 0-9 _ -`; UUIDs today). */
export function parseRunId(raw: string, option = '--run'): Parsed<string> {
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(raw)) {
    return {
      ok: false,
      message: `${option} must be a run id (1-64 characters of A-Z a-z 0-9 _ -), got ${JSON.stringify(raw.slice(0, 80))}`,
    };
  }
  return { ok: true, value: raw };
}
