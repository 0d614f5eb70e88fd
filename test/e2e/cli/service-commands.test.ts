/**
 * The operator's day with the built binary: `serve` a real service, `flags enable`, `trigger`,
 * `status` and `status --watch`, `failures` as CSV and NDJSON, a refused trigger, `api` on its
 * own, `fake-crm` as a server, and `demo` end to end. Every command runs as a subprocess.
 */
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { DEV_API_PASSWORD, DEV_API_USERNAME } from '../../../src/config.js';
import { seedCdp } from '../../../src/crm/fake/cdp-seed.js';
import { FAKE_CRM_DEFAULT_AUTH, type FakeCrm } from '../../../src/crm/fake/fake-crm-server.js';
import { resolveFakeTenant } from '../../../src/crm/fake/fake-tenant-options.js';
import { spawnCliProcess, type WorkerProcess } from '../../helpers/cli-process.js';
import { startTestS3, type TestS3 } from '../../helpers/embedded-s3.js';
import { startTrackedFakeCrm } from '../../helpers/fake-crm.js';
import { runCli } from '../../helpers/run-cli.js';
import { serviceEnvFor } from '../../helpers/service-env.js';
import { useTestDb } from '../../helpers/test-db.js';

const t = useTestDb(import.meta.url);
const tenant = { cid: '5101', companySsoId: 'co-cli', noteCount: 600, seed: 3, preset: 'realistic' as const };
let crm: FakeCrm;
let s3: TestS3;
let serve: WorkerProcess;
let url: string;

function serviceEnv(): Record<string, string> {
  return {
    ...serviceEnvFor(t.dbUri, crm, s3),
    HTTP_PORT: '0',
    CRM_PAGE_SIZE: '200',
  };
}

beforeAll(async () => {
  crm = await startTrackedFakeCrm({ tenants: [tenant] }, 'file');
  s3 = await startTestS3();
  await seedCdp(t.db, resolveFakeTenant(tenant));
  serve = spawnCliProcess(['serve'], { ...serviceEnv(), LOG_LEVEL: 'info' }, 'file');
  url = (await serve.waitForOutput(/"url":"(http:\/\/127\.0\.0\.1:\d+)".*"api listening"/))[1]!;
});

afterAll(async () => {
  await serve.stop();
  await crm.stop();
  await s3.stop();
});

const cliEnv = () => ({ NOTES_MIGRATOR_URL: url });

describe('operating a running service from the CLI', () => {
  it('refuses a trigger while the flag is off, then migrates once it is enabled', async () => {
    const refused = await runCli(['trigger', '--cid', tenant.cid, '--company', tenant.companySsoId], {
      env: cliEnv(),
    });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('403 FLAG_DISABLED');

    const flag = await runCli(['flags', 'enable', '--cid', tenant.cid], { env: { MONGODB_URI: t.dbUri } });
    expect(flag).toMatchObject({
      code: 0,
      stdout: `crm_notes_migration_enabled enabled for CID ${tenant.cid}\n`,
    });

    const triggered = await runCli(['trigger', '--cid', tenant.cid, '--company', tenant.companySsoId], {
      env: cliEnv(),
    });
    expect(triggered.code).toBe(0);
    const body = JSON.parse(triggered.stdout) as { run_id: string; job_id: string; status: string };
    expect(body).toMatchObject({ status: 'in_progress' });

    const watched = await runCli(['status', '--cid', tenant.cid, '--watch'], {
      env: cliEnv(),
      timeoutMs: 120_000,
    });
    expect(watched.code).toBe(0);
    const lines = watched.stdout.trim().split('\n');
    const final = JSON.parse(lines.at(-1)!) as { status: string; notes_migrated: number; run_id: string };
    expect(final).toMatchObject({
      status: 'completed_success',
      run_id: body.run_id,
      notes_migrated: crm.plan(tenant.cid).expectedMigrated,
    });
    // Progress lines were printed while it ran (not a TTY: one line per change).
    expect(lines.some((l) => l.startsWith(`CID ${tenant.cid} `))).toBe(true);

    const status = await runCli(['status', '--cid', tenant.cid], { env: cliEnv() });
    expect(JSON.parse(status.stdout)).toMatchObject({
      status: 'completed_success',
      run_id: body.run_id,
      kind: 'migrate',
      triggered_by: 'ops (cli)',
    });

    const again = await runCli(['trigger', '--cid', tenant.cid, '--company', tenant.companySsoId], {
      env: cliEnv(),
    });
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('409 ALREADY_MIGRATED');
  });

  it('exports the failure log as CSV and NDJSON, every record once', async () => {
    const plan = crm.plan(tenant.cid);
    const expected =
      Object.values(plan.failures).reduce((a, b) => a + b, 0) +
      Object.values(plan.warnings).reduce((a, b) => a + b, 0);
    const ndjson = await runCli(['failures', '--cid', tenant.cid, '--format', 'ndjson'], { env: cliEnv() });
    expect(ndjson.code).toBe(0);
    const records = ndjson.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { reason_code: string });
    expect(records).toHaveLength(expected);
    const csv = await runCli(
      ['failures', '--cid', tenant.cid, '--format', 'csv', '--reason', 'OWNER_NOT_MAPPED'],
      { env: cliEnv() },
    );
    expect(csv.code).toBe(0);
    const rows = csv.stdout.trim().split('\n');
    expect(rows[0]).toContain('reason_code');
    expect(rows.length - 1).toBe(plan.warnings.OWNER_NOT_MAPPED);
  });

  it('forecasts a migrated CID with `forecast --watch` and `trigger --kind dry-run`: nothing left to migrate (#13)', async () => {
    const plan = crm.plan(tenant.cid);
    const forecast = await runCli(
      ['forecast', '--cid', tenant.cid, '--company', tenant.companySsoId, '--watch', '--verify-attachments'],
      { env: cliEnv(), timeoutMs: 120_000 },
    );
    expect(forecast.code).toBe(0);
    expect(forecast.stdout).toContain(
      `Forecast for CID ${tenant.cid} (dry run, nothing written; attachments downloaded and checked)`,
    );
    expect(forecast.stdout).toContain(`would migrate 0 · skip (already in CDP) ${plan.expectedMigrated} ·`);
    expect(forecast.stdout).toContain('estimated duration of the real run: ~');
    const last = JSON.parse(forecast.stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;
    expect(last).toMatchObject({
      kind: 'dry_run',
      status: 'completed_success',
      options: { verify_attachments: true },
      forecast: { migrated: 0, skipped: plan.expectedMigrated, terminal_status: 'completed_success' },
    });

    const triggered = await runCli(
      ['trigger', '--cid', tenant.cid, '--company', tenant.companySsoId, '--kind', 'dry-run'],
      {
        env: cliEnv(),
      },
    );
    expect(triggered.code).toBe(0);
    const watched = await runCli(['status', '--cid', tenant.cid, '--watch'], {
      env: cliEnv(),
      timeoutMs: 120_000,
    });
    expect(watched.stdout).toContain('URL-checked only');
    const dryRunId = (JSON.parse(triggered.stdout) as { run_id: string }).run_id;
    const records = await runCli(['failures', '--cid', tenant.cid, '--kind', 'dry-run', '--run', dryRunId], {
      env: cliEnv(),
    });
    expect(records.code).toBe(0);
    const kinds = new Set(
      records.stdout
        .trim()
        .split('\n')
        .map((l) => (JSON.parse(l) as { kind: string }).kind),
    );
    expect([...kinds]).toEqual(['dry_run']);
    // The migration's export is unchanged by the dry runs' records.
    const migration = await runCli(['failures', '--cid', tenant.cid], { env: cliEnv() });
    expect(
      migration.stdout
        .trim()
        .split('\n')
        .every((l) => l.includes('"kind":"migrate"')),
    ).toBe(true);
  });

  it('refuses hostile forecast and dry-run options with exit 2', async () => {
    const verifyMigrate = await runCli(
      ['trigger', '--cid', '5999', '--company', 'co', '--kind', 'migrate', '--verify-attachments'],
      { env: cliEnv() },
    );
    expect(verifyMigrate.code).toBe(2);
    expect(verifyMigrate.stderr).toContain(
      '400 VALIDATION_ERROR: verify_attachments does not apply to kind migrate',
    );
    const badCid = await runCli(['forecast', '--cid', '1; rm -rf /', '--company', 'co'], { env: cliEnv() });
    expect(badCid).toMatchObject({ code: 2 });
    expect(badCid.stderr).toContain('--cid must be a positive integer');
    const badCompany = await runCli(['forecast', '--cid', '5999', '--company', '{"$ne":1}'], {
      env: cliEnv(),
    });
    expect(badCompany.code).toBe(2);
    expect(badCompany.stderr).toContain('company_sso_id must be');
    const badKind = await runCli(['failures', '--cid', '1', '--kind', 'teleport'], { env: cliEnv() });
    expect(badKind.code).toBe(2);
    expect(badKind.stderr).toContain(
      '--kind must be one of migrate, dry-run, reconcile, repair, rollback, got "teleport"',
    );
  });

  it('rejects bad arguments with exit 2 and a message naming the option', async () => {
    const badCid = await runCli(['status', '--cid', '{"$ne":null}'], { env: cliEnv() });
    expect(badCid).toMatchObject({ code: 2 });
    expect(badCid.stderr).toContain('--cid must be a positive integer');
    const badReason = await runCli(['failures', '--cid', '1', '--reason', 'NOPE'], { env: cliEnv() });
    expect(badReason.code).toBe(2);
    const badKind = await runCli(['trigger', '--cid', '1', '--company', 'co', '--kind', 'teleport'], {
      env: cliEnv(),
    });
    expect(badKind).toMatchObject({ code: 2 });
    expect(badKind.stderr).toContain(
      '--kind must be one of migrate, dry-run, reconcile, repair, got "teleport"',
    );
    const rollbackKind = await runCli(['trigger', '--cid', '1', '--company', 'co', '--kind', 'rollback'], {
      env: cliEnv(),
    });
    expect(rollbackKind).toMatchObject({ code: 2 });
    expect(rollbackKind.stderr).toContain(
      '--kind rollback acts on one run: use notes-migrator rollback --run',
    );
    const unreachable = await runCli(['status', '--cid', '1'], {
      env: { NOTES_MIGRATOR_URL: 'http://127.0.0.1:9' },
    });
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr).toContain('cannot reach the service');
  });
});

describe('notes-migrator api', () => {
  it('serves health and the private API, and stops cleanly on SIGTERM', async () => {
    const api = spawnCliProcess(['api'], { ...serviceEnv(), LOG_LEVEL: 'info' });
    const apiUrl = (await api.waitForOutput(/"url":"(http:\/\/127\.0\.0\.1:\d+)".*"api listening"/))[1]!;
    const health = await request(`${apiUrl}/healthz`);
    expect(health.statusCode).toBe(200);
    await health.body.dump();
    const unauth = await request(`${apiUrl}/private/notes/migration/status?cid=1`);
    expect(unauth.statusCode).toBe(401);
    await unauth.body.dump();
    // The console's files are in dist/ too (the build copies them; #17).
    const authorization = `Basic ${Buffer.from(`${DEV_API_USERNAME}:${DEV_API_PASSWORD}`).toString('base64')}`;
    for (const file of ['console.js', 'tenants.js', 'console.css']) {
      const asset = await request(`${apiUrl}/private/console/assets/${file}`, { headers: { authorization } });
      expect(asset.statusCode, file).toBe(200);
      expect((await asset.body.text()).length, file).toBeGreaterThan(100);
    }
    const consolePage = await request(`${apiUrl}/private/console`, { headers: { authorization } });
    expect(consolePage.statusCode).toBe(200);
    expect(consolePage.headers['content-security-policy']).toContain("script-src 'self'");
    await consolePage.body.dump();
    api.signal('SIGTERM');
    expect(await api.exited).toMatchObject({ code: 0 });
  });
});

describe('notes-migrator fake-crm', () => {
  it('serves a seeded tenant over HTTP, prints its plan, and stops on SIGTERM', async () => {
    const fake = spawnCliProcess(['fake-crm', '--port', '0', '--tenant', '77:co-77:120:5'], {});
    const printed = await fake.waitForOutput(/"url":\s*"(http:\/\/127\.0\.0\.1:\d+)"/);
    const page = await request(`${printed[1]}/v1/organizations/77/person_notes?page=1&per_page=50`, {
      headers: { authorization: FAKE_CRM_DEFAULT_AUTH },
    });
    expect(page.statusCode).toBe(200);
    const body = (await page.body.json()) as {
      data: unknown[];
      meta: { total: number; total_pages: number };
    };
    expect(body.meta).toMatchObject({ total: 120, total_pages: 3 });
    expect(body.data).toHaveLength(50);
    fake.signal('SIGTERM');
    await fake.exited;
  });
});

describe('notes-migrator demo', () => {
  it('runs a whole migration on the embedded S3 and fake CRM and reports exactly what was planted', async () => {
    // Its own database: the `serve` worker of this file polls the same Agenda queue in t.db and
    // would take the demo's job to a fake CRM that does not know CID 5301.
    const demoDb = `${t.dbName}_demo`;
    const demoUri = new URL(t.uri);
    demoUri.pathname = `/${demoDb}`;
    const demo = await runCli(['demo', '--notes', '400', '--cid', '5301', '--expect-plan', '--dry-run'], {
      env: { MONGODB_URI: demoUri.toString() },
      timeoutMs: 240_000,
    });
    await t.client.db(demoDb).dropDatabase();
    expect(demo.stdout).toContain('Migration of CID 5301 → completed_success');
    expect(demo.stdout).toContain('Planted by the fake CRM vs observed: all match');
    // The forecast first (#13), then the migration it predicted, figure for figure.
    expect(demo.stdout).toContain(
      'Forecast for CID 5301 (dry run, nothing written; attachments downloaded and checked)',
    );
    expect(demo.stdout).toMatch(/Forecast of run [0-9a-f-]+ vs the real run: all match/);
    // The audit stamp (#12): who triggered it (over HTTP, from the CLI's client) and what shaped it.
    expect(demo.stdout).toContain('kind migrate · mode restart · triggered by ops (cli)');
    expect(demo.stdout).toMatch(
      /config: service \d+\.\d+\.\d+ · sanitizer policy [0-9a-f]{12}… · page size 500/,
    );
    expect(demo.code).toBe(0);
  });
});
