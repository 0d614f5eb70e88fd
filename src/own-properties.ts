/**
 * Dictionaries keyed by text from outside (CIDs, tokens, env names, CLI keys): read and written
 * as own properties only, so a key like `__proto__` or `constructor` never reaches the prototype
 * (`npm run sec`, local-security/no-wide-string-key; #18). For anything but JSON-shaped counters
 * and reports, prefer a `Map`.
 */

/** The value stored under `key` itself, or undefined (never an inherited property). */
export function ownValue<V>(dict: Readonly<Record<string, V>>, key: string): V | undefined {
  return Object.hasOwn(dict, key) ? dict[key] : undefined;
}

/** Stores `value` as an own, enumerable property, whatever the key text (`__proto__` included). */
export function setOwn<V>(dict: Record<string, V>, key: string, value: V): void {
  Object.defineProperty(dict, key, { value, enumerable: true, writable: true, configurable: true });
}

/** The entry under `key`, created by `make` on first use. */
export function ownEntry<V>(dict: Record<string, V>, key: string, make: () => V): V {
  const existing = ownValue(dict, key);
  if (existing !== undefined) return existing;
  const created = make();
  setOwn(dict, key, created);
  return created;
}

/** Adds `by` to the counter under `key` (0 when absent). */
export function countOwn(dict: Record<string, number>, key: string, by = 1): void {
  setOwn(dict, key, (ownValue(dict, key) ?? 0) + by);
}
