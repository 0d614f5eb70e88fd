/**
 * Event ids of the status streams (DESIGN.md §11.9, #17): an id names the state a frame carried,
 * not its position in one connection, so any API process can tell a reconnecting client
 * (`Last-Event-ID`) whether it already has the current state. Pure.
 */
import { createHash } from 'node:crypto';

import type { StatusView } from './status-view.js';

/** What a `Last-Event-ID` header may hold: ids this module makes are far shorter. */
const EVENT_ID_PATTERN = /^[A-Za-z0-9._:-]{1,200}$/;

const digest = (text: string): string => createHash('sha256').update(text).digest('hex').slice(0, 16);

/** `<run_id>.<16 hex of the body's SHA-256>`, or `not_started`: equal ids, equal bodies. */
export function statusEventId(view: StatusView): string {
  if (view.status === 'not_started') return 'not_started';
  return `${view.run_id}.${digest(JSON.stringify(view))}`;
}

/**
 * The id of a set of per-key states (the tenants stream): one digest over every `key=state`
 * pair, so it changes when any state does and is the same in every process.
 */
export function setEventId(states: ReadonlyMap<string, string>): string {
  const pairs = [...states].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `set.${digest(pairs.map(([k, v]) => `${k}=${v}`).join(';'))}`;
}

/** A state's own digest, for `setEventId`. */
export function stateDigest(value: unknown): string {
  return digest(JSON.stringify(value));
}

/**
 * The client's `Last-Event-ID`, or null when absent or not an id we could have sent: a browser
 * echoes whatever it was given, so a foreign value just means "send me the current state".
 */
export function tryParseLastEventId(header: string | undefined): string | null {
  const value = header?.trim() ?? '';
  return EVENT_ID_PATTERN.test(value) ? value : null;
}
