/**
 * Leak check (STYLE.md "Tests"): helpers register what they open (HTTP servers, Mongo clients,
 * Agenda instances, change streams, child processes); a test that leaves one open fails.
 * Scope `test` is checked after each test, scope `file` after the file.
 */
import { afterAll, afterEach } from 'vitest';

interface Tracked {
  label: string;
  isOpen: () => boolean;
  close: () => Promise<void> | void;
  scope: 'test' | 'file';
}

const tracked = new Set<Tracked>();

/** Registers a resource; returns an untrack function for resources closed by their owner. */
export function trackResource(
  label: string,
  isOpen: () => boolean,
  close: () => Promise<void> | void,
  scope: 'test' | 'file' = 'test',
): () => void {
  const entry: Tracked = { label, isOpen, close, scope };
  tracked.add(entry);
  return () => tracked.delete(entry);
}

async function check(scope: 'test' | 'file'): Promise<void> {
  const leaked: string[] = [];
  for (const t of [...tracked]) {
    if (t.scope !== scope && scope === 'test') continue;
    tracked.delete(t);
    if (t.isOpen()) {
      leaked.push(t.label);
      // Close it anyway, so one leak does not cascade into the next test.
      await t.close();
    }
  }
  if (leaked.length > 0) throw new Error(`Leaked resources still open: ${leaked.join(', ')}`);
}

afterEach(() => check('test'));
afterAll(() => check('file'));
