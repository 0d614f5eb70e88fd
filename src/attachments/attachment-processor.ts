/**
 * Re-hosts one note's attachments (DESIGN.md §8, issue #5): map type → vet and download → check
 * magic bytes → upload under a deterministic key → proxy URL; the dry run's stages stop before the
 * download or the upload and store nothing (#13). Every per-attachment problem is data
 * (`problems`), never an exception, and never fails the note; only the caller's abort throws.
 */
import pLimit, { type LimitFunction } from 'p-limit';

import type { Config } from '../config.js';
import type { NoteAttachmentDoc } from '../db/documents.js';
import type { AttachmentProblemCode } from '../domain.js';
import { toError } from '../errors.js';
import type { Logger } from '../logger.js';
import { type AddressPolicy, createAddressPolicy } from './address-policy.js';
import { assignAssetKeys, displayFileName } from './asset-key.js';
import { createDownloader } from './downloader.js';
import { createSystemResolver, type HostResolver } from './host-resolver.js';
import { redactUrl } from './redact-url.js';
import type { AttachmentStore } from './s3-attachment-store.js';
import { compileAllowList } from './ssrf-guard.js';
import { checkFileType, detectFileType, TEXT_SNIFF_BYTES } from './type-check.js';
import { type CrmAttachmentKind, fileExtensionOf, mapAttachmentType } from './type-mapping.js';
import { createUrlVetter } from './url-vetter.js';

export type { CrmAttachmentKind } from './type-mapping.js';

/** One CRM attachment, as the pipeline reads it from `crm_note_images|audios|attachments`. */
export interface AttachmentInput {
  kind: CrmAttachmentKind;
  url: string;
  fileName: string | null;
  /** CRM's declared content type; used for type mapping only, never trusted for storage. */
  contentType: string | null;
  /** CRM's declared size in bytes; informational, the byte cap counts what actually arrives. */
  size: number | null;
}

export interface AttachmentProblem {
  reasonCode: AttachmentProblemCode;
  /** The CRM URL with credentials and query values removed (`redactUrl`). */
  url: string;
  fileName: string | null;
  message: string;
}

export interface AttachmentProcessResult {
  /** Re-hosted attachments, in input order, pointing at the proxy only. */
  attachments: NoteAttachmentDoc[];
  /** One per attachment that was left out, in input order. */
  problems: AttachmentProblem[];
}

export interface AttachmentProcessor {
  /**
   * Re-hosts every input under `{companySsoId}/{legacyCrmNoteId}/…`. Resolves with what succeeded
   * and one problem per failure; rejects only when `signal` aborts (run cancelled or shutting down).
   */
  process(
    companySsoId: string,
    legacyCrmNoteId: string,
    inputs: readonly AttachmentInput[],
    signal?: AbortSignal,
  ): Promise<AttachmentProcessResult>;
}

export interface AttachmentProcessorDeps {
  config: Config['attachments'];
  store: AttachmentStore;
  logger: Logger;
  /** DNS seam; the system resolver by default. */
  resolver?: HostResolver;
  /**
   * Address seam, for tests that must connect to a local server while the policy under test
   * believes it public. Built from `config.allowPrivateNetworks` by default.
   */
  addressPolicy?: AddressPolicy;
}

type Outcome = { ok: true; doc: NoteAttachmentDoc } | { ok: false; problem: AttachmentProblem };

/**
 * How far an attachment goes: `vet` runs the SSRF guard only (DNS included) and trusts CRM's
 * declared size; `check` also downloads under the cap and checks magic bytes; `upload` also stores
 * it. `vet` and `check` never write anything (the dry run's attachment checks, #13).
 */
export type AttachmentStage =
  { stage: 'vet' } | { stage: 'check' } | { stage: 'upload'; store: AttachmentStore };

export function createAttachmentProcessor(deps: AttachmentProcessorDeps): AttachmentProcessor {
  warnAboutConfig(deps.config, deps.logger.child({ component: 'attachments' }));
  return createAttachmentHandler(deps, { stage: 'upload', store: deps.store });
}

/** What one process needs: the re-hosting processor, and the dry run's two checks that store nothing. */
export interface AttachmentHandlers {
  processor: AttachmentProcessor;
  /** The SSRF guard only (scheme, port, allow-list, DNS, address classes). */
  vetUrls: AttachmentProcessor;
  /** The SSRF guard, the download under the size cap, the magic-byte check; no upload. */
  checkDownloads: AttachmentProcessor;
}

/** All three stages over one download limiter (the memory bound is per process). */
export function createAttachmentHandlers(deps: AttachmentProcessorDeps): AttachmentHandlers {
  warnAboutConfig(deps.config, deps.logger.child({ component: 'attachments' }));
  const limit = pLimit(deps.config.concurrency);
  return {
    processor: createAttachmentHandler(deps, { stage: 'upload', store: deps.store }, limit),
    vetUrls: createAttachmentHandler(deps, { stage: 'vet' }, limit),
    checkDownloads: createAttachmentHandler(deps, { stage: 'check' }, limit),
  };
}

/** The shared path of every stage: type mapping, deterministic keys, one limiter, problems as data. */
export function createAttachmentHandler(
  deps: Omit<AttachmentProcessorDeps, 'store'>,
  stage: AttachmentStage,
  /** Shared by handlers of one process, so downloads in flight stay within ATTACHMENT_CONCURRENCY. */
  sharedLimit?: LimitFunction,
): AttachmentProcessor {
  const { config } = deps;
  const logger = deps.logger.child({ component: 'attachments', stage: stage.stage });
  const addressPolicy =
    deps.addressPolicy ?? createAddressPolicy({ allowPrivateNetworks: config.allowPrivateNetworks });
  const vetter = createUrlVetter({
    policy: config,
    addressPolicy,
    resolver: deps.resolver ?? createSystemResolver(),
  });
  const downloader = createDownloader({
    vetter,
    maxBytes: config.maxBytes,
    timeoutMs: config.timeoutMs,
    maxRedirects: config.maxRedirects,
  });
  // One limiter for the processor, shared by every note: the bound is on downloads in flight in
  // this process, however many notes the worker handles at once.
  const limit = sharedLimit ?? pLimit(config.concurrency);

  async function processOne(input: AttachmentInput, key: string, signal?: AbortSignal): Promise<Outcome> {
    signal?.throwIfAborted();
    const fileName = displayFileName(input);
    const problem = (reasonCode: AttachmentProblemCode, message: string): Outcome => ({
      ok: false,
      problem: { reasonCode, url: redactUrl(input.url), fileName: input.fileName, message },
    });
    const extension = fileExtensionOf(input.fileName, input.url);
    const type = mapAttachmentType({ kind: input.kind, extension, contentType: input.contentType });
    const doc = (size: number): Outcome => ({
      ok: true,
      doc: { type, url: `${config.proxyBaseUrl}/${key}`, file_name: fileName, file_size_in_byte: size },
    });

    if (stage.stage === 'vet') {
      // The downloader's first step, with its message: what a real run would say of this URL.
      const verdict = await vetter.vet(input.url);
      if (!verdict.ok) {
        return problem('ATTACHMENT_SSRF_BLOCKED', `blocked URL: ${verdict.reason} (${verdict.detail})`);
      }
      return doc(input.size ?? 0);
    }

    const download = await downloader.download(input.url, signal);
    if (!download.ok) return problem(download.reasonCode, download.message);
    const bytes = download.bytes;

    const detected = await detectFileType(bytes);
    const check = checkFileType({ type, extension, detected, head: bytes.subarray(0, TEXT_SNIFF_BYTES) });
    if (!check.ok) return problem('ATTACHMENT_TYPE_MISMATCH', check.message);
    if (stage.stage === 'check') return doc(bytes.length);

    try {
      await stage.store.put(key, bytes, check.contentType, bytes.length, signal);
    } catch (e) {
      signal?.throwIfAborted();
      return problem('ATTACHMENT_UPLOAD_FAILED', `upload failed: ${toError(e).message}`);
    }
    return doc(bytes.length);
  }

  return {
    async process(companySsoId, legacyCrmNoteId, inputs, signal) {
      const keys = assignAssetKeys(companySsoId, legacyCrmNoteId, inputs);
      const outcomes = await Promise.all(
        inputs.map((input, i) =>
          limit(async (): Promise<Outcome> => {
            try {
              return await processOne(input, keys[i] ?? '', signal);
            } catch (e) {
              signal?.throwIfAborted();
              // A bug, not a CRM problem: still only this attachment is lost, loudly.
              logger.error(
                { err: toError(e), legacy_crm_note_id: legacyCrmNoteId },
                'attachment_unexpected_error',
              );
              return {
                ok: false,
                problem: {
                  reasonCode: 'ATTACHMENT_DOWNLOAD_FAILED',
                  url: redactUrl(input.url),
                  fileName: input.fileName,
                  message: `unexpected error: ${toError(e).message}`,
                },
              };
            }
          }),
        ),
      );
      const attachments: NoteAttachmentDoc[] = [];
      const problems: AttachmentProblem[] = [];
      for (const outcome of outcomes) {
        if (outcome.ok) {
          attachments.push(outcome.doc);
        } else {
          problems.push(outcome.problem);
          logger.warn(
            {
              company_sso_id: companySsoId,
              legacy_crm_note_id: legacyCrmNoteId,
              reason_code: outcome.problem.reasonCode,
              details: {
                url: outcome.problem.url,
                file_name: outcome.problem.fileName,
                message: outcome.problem.message,
              },
            },
            'attachment_problem',
          );
        }
      }
      return { attachments, problems };
    },
  };
}

function warnAboutConfig(config: Config['attachments'], logger: Logger): void {
  if (config.allowPrivateNetworks) {
    logger.warn(
      {
        variable: 'ATTACHMENT_ALLOW_PRIVATE_NETWORKS',
        note: 'development only: attachment downloads may reach loopback and private addresses',
      },
      'attachment_private_networks_allowed',
    );
  }
  const { invalid } = compileAllowList(config.allowedHosts);
  if (invalid.length > 0) logger.warn({ invalid }, 'attachment_hosts_invalid_entries_ignored');
  if (config.allowedHosts.length === 0) {
    logger.warn(
      { variable: 'ATTACHMENT_HOSTS', note: 'every attachment will be blocked' },
      'attachment_hosts_empty',
    );
  }
}
