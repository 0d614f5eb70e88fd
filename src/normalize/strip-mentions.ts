/**
 * CRM mention anchors become their plain `@Name` text (DESIGN.md §9 step 1, #3): a CRM user link
 * would dangle in CDP and must not look like a CDP mention. Works on parser events inside the
 * one sanitize-html parse (no regex over markup, no second parse); sanitizing is not its job.
 */
import type sanitizeHtml from 'sanitize-html';

/** Resolves relative hrefs (`/users/7/edit_user`) so one path check covers both forms. */
const RELATIVE_BASE = 'https://crm.invalid/';

/** The CRM's user-profile route, `…/users/{id}/edit_user…`, on the decoded URL path. */
const EDIT_USER_PATH = /\/users\/[^/]+\/edit_user/i;

/**
 * Is this `<a>` a CRM mention? Either it carries `data-user-id` (any value, any attribute order:
 * the parser hands over a map with lower-cased names and entity-decoded values), or its href,
 * relative or absolute, points at a user's edit page.
 */
export function isMentionAnchor(attribs: sanitizeHtml.Attributes): boolean {
  if (Object.hasOwn(attribs, 'data-user-id')) return true;
  const href = attribs.href;
  if (href === undefined) return false;
  try {
    return EDIT_USER_PATH.test(new URL(href, RELATIVE_BASE).pathname);
  } catch {
    return false;
  }
}

/** sanitize-html hooks that unwrap a mention anchor and every element inside it, keeping the text. */
export interface MentionStripHooks {
  onOpenTag: (name: string, attribs: sanitizeHtml.Attributes) => void;
  onCloseTag: (name: string, isImplied: boolean) => void;
  /** Is the current element inside a mention anchor (or, while it opens, the anchor itself)? */
  isInsideMention: () => boolean;
}

/**
 * One set of hooks per parse. htmlparser2 reports every open element's close (explicit, implied
 * by a later tag, or at the end of input), so an element depth tells when the mention ends.
 * Code-content elements inside a mention are still dropped with their content by the policy:
 * only allowed elements are unwrapped (see `normalize-note-html.ts`).
 */
export function createMentionStripHooks(): MentionStripHooks {
  let depth = 0;
  /** Depth of the outermost open mention anchor; 0 when outside any. */
  let mentionDepth = 0;
  return {
    onOpenTag(name, attribs) {
      depth += 1;
      if (mentionDepth === 0 && name === 'a' && isMentionAnchor(attribs)) mentionDepth = depth;
    },
    onCloseTag() {
      if (depth === mentionDepth) mentionDepth = 0;
      if (depth > 0) depth -= 1;
    },
    isInsideMention: () => mentionDepth !== 0,
  };
}
