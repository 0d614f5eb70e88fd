/**
 * What is wrong with a tenant, from a run's figures (DESIGN.md §11.4, #13): a systemic cause that
 * should stop a run after one page, or else the dominant failure or warning — with its share, up
 * to 5 sample note ids and a hint that says what to fix. Pure: the migrate kind's halt check and
 * the dry run's forecast both call it, so a forecast names the same cause the real run halts on.
 */
import type { DiagnosisDoc, ProblemTallyDoc } from '../db/documents.js';
import {
  NOTE_FAILURE_CODES,
  NOTE_WARNING_CODES,
  type NoteFailureCode,
  type NoteWarningCode,
  type ReasonCode,
} from '../domain.js';

/** What `diagnose` looks at: one page's figures (systemic causes) or a whole run's (dominant cause). */
export interface DiagnosisFigures {
  companySsoId: string;
  /** In-scope notes: processed minus out of scope (invalid notes count: their type is unknown). */
  inScope: number;
  tally: ProblemTallyDoc;
  /** Distinct CRM persons whose contact was looked up, and how many of them CDP has. */
  persons: { seen: number; found: number };
  /** Attachments sent to the re-hoster, those the SSRF guard refused, and their hosts. */
  attachments: { total: number; blocked: number; blockedHosts: readonly { host: string; count: number }[] };
}

export interface DiagnosisThresholds {
  /** Share of one cause that makes it systemic. */
  systemicShare: number;
  /** In-scope notes needed before a note share can be called systemic. */
  minNotes: number;
  /** Attachments needed before "every attachment was blocked" can be called systemic. */
  minAttachments: number;
}

/**
 * - 0.5: scattered bad data is a few percent even in messy tenants (the `messy` fake has 3 %);
 *   half the notes failing for one reason is one cause — contacts not synced, a changed CRM API.
 * - 20 notes: below that a share is chance (2 of 3); a default CRM page has 500.
 * - 5 attachments: one blocked file on a page is a bad URL, five out of five is the allow-list.
 */
export const DIAGNOSIS_THRESHOLDS: Readonly<DiagnosisThresholds> = {
  systemicShare: 0.5,
  minNotes: 20,
  minAttachments: 5,
};

/** How many sample note ids a diagnosis carries. */
export const DIAGNOSIS_SAMPLES_MAX = 5;

/** What to do about each note problem when it is the dominant one (the README's diagnosis table). */
export const DIAGNOSIS_HINTS: Readonly<Record<NoteFailureCode | NoteWarningCode, string>> = {
  CRM_PAYLOAD_INVALID:
    'CRM sent notes that break the payload contract; their failure records say which field (details.issues) — have CRM fix them',
  CONTACT_NOT_MAPPED:
    'notes whose CRM person has no CDP contact (or no person at all); sync the missing contacts, then run again (migrated notes are skipped)',
  NOTE_TOO_LONG:
    'notes longer than 10,000 characters after sanitizing are never truncated; shorten them in CRM or accept the loss',
  NOTE_EMPTY_AFTER_SANITIZE:
    'notes with no text and no attachment left after sanitizing (scripts only); usually junk — nothing to fix',
  WRITE_FAILED: 'MongoDB refused writes; check the database (disk, validation rules) and run again',
  OWNER_NOT_MAPPED:
    'creators unknown to SSO by CRM user id and by e-mail; their notes keep a legacy_owner_label — add crm_user_id to the SSO users to map them',
  ATTACHMENT_SSRF_BLOCKED:
    'attachments refused before download (host not on ATTACHMENT_HOSTS, a port, scheme or private address); add CRM’s real file hosts',
  ATTACHMENT_DOWNLOAD_FAILED:
    'attachments that could not be fetched (HTTP errors, timeouts); a later run tries again',
  ATTACHMENT_TOO_LARGE: 'attachments above MAX_ATTACHMENT_BYTES; raise it if they are wanted',
  ATTACHMENT_TYPE_MISMATCH:
    'attachments whose bytes are not what CRM declared are never stored (they may be disguised executables); nothing to fix',
  ATTACHMENT_UPLOAD_FAILED: 'uploads to S3 failed; check the bucket and credentials, then run again',
  CRM_CHECKIN_DROPPED: 'check-ins CDP cannot store; the notes are kept without them — nothing to fix',
};

/**
 * The systemic cause of these figures, if any; else the dominant failure; else the dominant
 * warning; null when there is no note problem at all. `focus` limits the search to one severity
 * (after a failure-rate halt, the cause is a failure).
 */
export function diagnose(
  figures: DiagnosisFigures,
  thresholds: DiagnosisThresholds = DIAGNOSIS_THRESHOLDS,
  focus: 'any' | 'failure' | 'warning' = 'any',
): DiagnosisDoc | null {
  if (focus === 'any') {
    const systemic = systemicCause(figures, thresholds);
    if (systemic) return systemic;
  }
  if (focus !== 'warning') {
    const failure = dominantCause(figures, NOTE_FAILURE_CODES, 'failure');
    if (failure || focus === 'failure') return failure;
  }
  return dominantCause(figures, NOTE_WARNING_CODES, 'warning');
}

/** A cause that makes the rest of the run pointless: most payloads invalid, most contacts missing, every attachment blocked. */
export function systemicCause(f: DiagnosisFigures, t: DiagnosisThresholds): DiagnosisDoc | null {
  const pct = (share: number) => `${(share * 100).toFixed(1)} %`;
  if (f.inScope >= t.minNotes) {
    const invalid = shareOf(f, 'CRM_PAYLOAD_INVALID');
    if (invalid.share >= t.systemicShare) {
      return systemic(f, 'CRM_PAYLOAD_INVALID', invalid, {
        hint: `${invalid.count} of ${f.inScope} CRM notes of company ${f.companySsoId} (${pct(invalid.share)}) break the payload contract — CRM's API answers something else than this service reads; check the CRM response (docs/crm.md) before migrating`,
      });
    }
    const contacts = shareOf(f, 'CONTACT_NOT_MAPPED');
    if (contacts.share >= t.systemicShare) {
      return systemic(f, 'CONTACT_NOT_MAPPED', contacts, {
        hint: `contacts of company ${f.companySsoId} are not in CDP: ${f.persons.found} of ${f.persons.seen} persons found by crm_data.id (${contacts.count} of ${f.inScope} notes unmapped) — sync contacts first`,
      });
    }
  }
  const a = f.attachments;
  if (a.total >= t.minAttachments && a.blocked === a.total) {
    const hosts = a.blockedHosts.map((h) => `${h.host} (${h.count})`).join(', ');
    return systemic(
      f,
      'ATTACHMENT_SSRF_BLOCKED',
      { count: a.blocked, share: 1 },
      {
        hint: `every attachment (${a.total}) was refused before download: the allow-list misses host ${hosts || '(none)'} — add CRM's file hosts to ATTACHMENT_HOSTS (and their ports to ATTACHMENT_ALLOWED_PORTS), or accept losing every attachment`,
      },
    );
  }
  return null;
}

function dominantCause(
  f: DiagnosisFigures,
  codes: readonly (NoteFailureCode | NoteWarningCode)[],
  severity: 'failure' | 'warning',
): DiagnosisDoc | null {
  let top: NoteFailureCode | NoteWarningCode | null = null;
  for (const code of codes) {
    if ((f.tally.by_reason[code] ?? 0) > (top === null ? 0 : (f.tally.by_reason[top] ?? 0))) top = code;
  }
  if (top === null) return null;
  const { count, share } = shareOf(f, top);
  const total = codes.reduce((sum, c) => sum + (f.tally.by_reason[c] ?? 0), 0);
  return {
    reason_code: top,
    share,
    count,
    sample_note_ids: samplesOf(f, top),
    hint: `${top} is the main ${severity} (${count} of ${total} ${severity} records, ${(share * 100).toFixed(1)} % of ${f.inScope} in-scope notes): ${DIAGNOSIS_HINTS[top]}`,
    systemic: false,
  };
}

function shareOf(f: DiagnosisFigures, code: ReasonCode): { count: number; share: number } {
  const count = f.tally.by_reason[code] ?? 0;
  return { count, share: f.inScope > 0 ? count / f.inScope : 0 };
}

function systemic(
  f: DiagnosisFigures,
  code: ReasonCode,
  figure: { count: number; share: number },
  text: { hint: string },
): DiagnosisDoc {
  return {
    reason_code: code,
    share: figure.share,
    count: figure.count,
    sample_note_ids: samplesOf(f, code),
    hint: text.hint,
    systemic: true,
  };
}

function samplesOf(f: DiagnosisFigures, code: ReasonCode): string[] {
  return (f.tally.samples[code] ?? []).slice(0, DIAGNOSIS_SAMPLES_MAX);
}
