import { describe, expect, it } from 'vitest';

import { INDEX_MIGRATIONS } from '../../../migrations/index.js';
import { runCli } from '../../helpers/run-cli.js';
import { useTestDb } from '../../helpers/test-db.js';

const t = useTestDb(import.meta.url, { migrate: false });

describe('notes-migrator migrate', () => {
  it('applies, reports, re-applies as a no-op and reverts the index migrations', async () => {
    const env = { MONGODB_URI: t.dbUri };
    const up = await runCli(['migrate', 'up'], { env });
    expect(up).toMatchObject({
      code: 0,
      stdout: `applied: ${INDEX_MIGRATIONS.map((m) => m.id).join(', ')}\n`,
    });

    const again = await runCli(['migrate', 'up'], { env });
    expect(again.stdout).toBe('nothing to apply: all migrations are applied\n');

    const status = await runCli(['migrate', 'status'], { env });
    expect(
      status.stdout
        .trim()
        .split('\n')
        .map((l) => l.split(/\s+/)[0]),
    ).toEqual(INDEX_MIGRATIONS.map(() => 'applied'));

    const down = await runCli(['migrate', 'down'], { env });
    expect(down.stdout).toBe(`reverted: ${INDEX_MIGRATIONS.at(-1)!.id}\n`);
    const indexes = await t.db.collection('contact_notes').indexes();
    expect(indexes.map((i) => i.name)).toContain('uq_contact_notes_company_legacy_crm_note_id');
  });

  it('refuses to run without MONGODB_URI, naming the variable (exit 78)', async () => {
    const run = await runCli(['migrate', 'up']);
    expect(run.code).toBe(78);
    expect(run.stderr).toContain('MONGODB_URI: expected a MongoDB connection string');
  });

  it('lists every bad variable, one per line (exit 78)', async () => {
    const run = await runCli(['migrate', 'status'], {
      env: { MONGODB_URI: t.dbUri, CRM_PAGE_SIZE: 'lots', LEASE_MS: 'x' },
    });
    expect(run.code).toBe(78);
    expect(run.stderr).toContain('CRM_PAGE_SIZE: expected an integer from 1 to 1000, got "lots"');
    expect(run.stderr).toContain('LEASE_MS: expected an integer');
  });

  it('rejects a bad --steps value (exit 2)', async () => {
    const run = await runCli(['migrate', 'down', '--steps', 'all'], { env: { MONGODB_URI: t.dbUri } });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--steps must be a positive integer, got "all"');
  });

  it('prints help for the command tree', async () => {
    const run = await runCli(['migrate', '--help']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/up\s+Apply every pending migration/);
  });
});
