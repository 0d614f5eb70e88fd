/**
 * Does a piece of note text show anything to a reader? Decides whether a normalized note is
 * empty (NOTE_EMPTY_AFTER_SANITIZE is the pipeline's call, DESIGN.md §5); it does no parsing.
 */

/**
 * A character a reader sees: not white space (which includes U+00A0 `&nbsp;` and U+FEFF), not a
 * control character, not an invisible format character (zero-width space, joiners, direction
 * marks). A note of only `&nbsp;`, `<br>` and `&#8203;` is empty.
 */
const VISIBLE_CHAR = /[^\s\p{Cc}\p{Cf}]/u;

export function hasVisibleChar(text: string): boolean {
  return VISIBLE_CHAR.test(text);
}
