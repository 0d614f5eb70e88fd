/**
 * A CRM note's HTML made safe for CDP (DESIGN.md §9, #3): mention strip, sanitize and length
 * guard in one sanitize-html parse. Pure: no I/O, clock or env; problems are returned as data.
 */
import sanitizeHtml from 'sanitize-html';

import { SANITIZE_POLICY, transformAnchor, unwrapHreflessAnchor } from './sanitize-policy.js';
import { createMentionStripHooks } from './strip-mentions.js';
import { hasVisibleChar } from './visible-text.js';

/**
 * Longest normalized note CDP takes, in characters (Unicode code points, so an emoji counts
 * once). Longer notes fail as NOTE_TOO_LONG and are never truncated: a cut note would be a
 * silent loss of what someone wrote (breakdown Task 1.2).
 */
export const MAX_NOTE_LENGTH = 10_000;

export type NormalizeResult =
  | {
      ok: true;
      html: string;
      /** False when the note shows nothing (only tags, spaces, `&nbsp;`): the pipeline reports
       * NOTE_EMPTY_AFTER_SANITIZE when the note has no attachments either. */
      hasVisibleText: boolean;
    }
  | {
      ok: false;
      reasonCode: 'NOTE_TOO_LONG';
      /** `length` is the normalized length in code points. */
      details: { length: number; maxLength: number };
    };

export function normalizeNoteHtml(html: string): NormalizeResult {
  const mentions = createMentionStripHooks();
  let hasVisibleText = false;

  const sanitized = sanitizeHtml(html, {
    ...SANITIZE_POLICY,
    onOpenTag: mentions.onOpenTag,
    onCloseTag: mentions.onCloseTag,
    // A mention anchor keeps no attribute, so the policy's filter unwraps it like any hrefless link.
    transformTags: {
      a: (tagName, attribs) =>
        mentions.isInsideMention() ? { tagName, attribs: {} } : transformAnchor(tagName, attribs),
    },
    // Allowed elements inside a mention (`<a data-user-id=1><b>@Ann</b></a>`) are unwrapped too,
    // so only the `@Name` text remains. Disallowed ones were already handled by the policy, and
    // code content inside a mention is still dropped, never turned into text.
    exclusiveFilter: (frame) => (mentions.isInsideMention() ? 'excludeTag' : unwrapHreflessAnchor(frame)),
    textFilter: (text) => {
      if (!hasVisibleText && hasVisibleChar(text)) hasVisibleText = true;
      return text;
    },
  });

  // UTF-16 length bounds the code-point count from above, so most notes skip the count.
  const length = sanitized.length > MAX_NOTE_LENGTH ? countCodePoints(sanitized) : sanitized.length;
  if (length > MAX_NOTE_LENGTH) {
    return { ok: false, reasonCode: 'NOTE_TOO_LONG', details: { length, maxLength: MAX_NOTE_LENGTH } };
  }
  return { ok: true, html: sanitized, hasVisibleText };
}

/** Unicode code points; a surrogate pair counts once, a lone surrogate once. */
function countCodePoints(text: string): number {
  let count = 0;
  for (let i = 0; i < text.length; i += 1) {
    const unit = text.charCodeAt(i);
    if (unit >= 0xd800 && unit <= 0xdbff) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) i += 1;
    }
    count += 1;
  }
  return count;
}
