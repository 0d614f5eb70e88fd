/**
 * The `config` stamp of a run (DESIGN.md §11.9): the settings that decide what a run writes,
 * taken from the process that triggers and the worker that claims it. Pure.
 */
import type { Config } from '../config.js';
import type { RunConfigStampDoc } from '../db/documents.js';
import { MAX_NOTE_LENGTH } from '../normalize/normalize-note-html.js';
import { sanitizerPolicyDigest } from '../normalize/sanitize-policy.js';

export function createRunConfigStamp(
  config: {
    crm: Pick<Config['crm'], 'pageSize'>;
    migration: Pick<
      Config['migration'],
      'noteTypeAllowlist' | 'maxFailureRate' | 'maxWarningRate' | 'matchPctThreshold'
    >;
    attachments: Pick<Config['attachments'], 'allowedHosts'>;
  },
  serviceVersion: string,
): RunConfigStampDoc {
  return {
    service_version: serviceVersion,
    sanitizer_policy_sha256: sanitizerPolicyDigest(MAX_NOTE_LENGTH),
    attachment_hosts: [...config.attachments.allowedHosts],
    note_type_allowlist: [...config.migration.noteTypeAllowlist].sort((a, b) => a - b),
    page_size: config.crm.pageSize,
    max_failure_rate: config.migration.maxFailureRate,
    max_warning_rate: config.migration.maxWarningRate,
    match_pct_threshold: config.migration.matchPctThreshold,
  };
}
