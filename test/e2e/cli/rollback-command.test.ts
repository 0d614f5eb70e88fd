/**
 * `notes-migrator rollback` and the other CLI additions of #14 with the built binary: the preview,
 * the start, the refusals (exit 2) — a hostile `--run` is refused before any request — plus
 * `failures --kind` and `fake-crm --mutate`. The API runs in-process on a real port.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { makeMigratedNotes, makeNewRun } from '../../fixtures/builders.js';
import {
  API_PASSWORD,
  API_USER,
  type ApiUnderTest,
  metricValue,
  startApi,
} from '../../helpers/api-server.js';
import { runCli } from '../../helpers/run-cli.js';
import { useTestDb } from '../../helpers/test-db.js';

const t = useTestDb(import.meta.url);
let api: ApiUnderTest;

beforeAll(async () => {
  api = await startApi(t, { scope: 'file' });
  await t.repos.runs.create(makeNewRun({ runId: 'mig-1', cid: '7301', companySsoId: 'co-7301' }), new Date());
  await t.repos.runs.finishUnclaimed('mig-1', { status: 'completed_success' }, new Date());
  await t.repos.contactNotes.createNotesBatch(
    makeMigratedNotes(4, { company_sso_id: 'co-7301', legacy_migration_run_id: 'mig-1' }),
  );
});

afterAll(() => api.close());

const service = () => ['--url', api.url, '--user', API_USER, '--password', API_PASSWORD];
const rollbackRuns = () => t.collections.runs.countDocuments({ kind: 'rollback' });

describe('notes-migrator rollback', () => {
  it('previews with --dry-run and changes nothing', async () => {
    const res = await runCli(['rollback', '--run', 'mig-1', '--dry-run', ...service()]);
    expect(res.code).toBe(0);
    expect(JSON.parse(res.stdout)).toMatchObject({
      dry_run: true,
      rollback_of: 'mig-1',
      would_delete: 4,
      would_keep: 0,
      objects: 0,
    });
    expect(await rollbackRuns()).toBe(0);
  });

  it.each([
    ['an operator', '{"$ne":null}'],
    ['a path climb', '../../private/notes/migrate'],
    ['too long an id', 'r'.repeat(65)],
    ['a space', 'mig 1'],
    ['nothing', ''],
  ])('refuses --run with %s (exit 2) before any request', async (_name, id) => {
    const before = await rollbackRuns();
    const served = await metricValue(api, 'cnm_http_request_duration_seconds_count');
    const res = await runCli(['rollback', '--run', id, ...service()]);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain('--run must be a run id');
    expect(await rollbackRuns()).toBe(before);
    // The only request since is the metrics read above: the CLI sent none.
    expect(await metricValue(api, 'cnm_http_request_duration_seconds_count')).toBe(served + 1);
  });

  it('answers an unknown run with exit 2 and the API message', async () => {
    const res = await runCli(['rollback', '--run', 'no-such-run', ...service()]);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain('404 NOT_FOUND');
  });

  it('starts the rollback; a second call while it is queued is refused with exit 2', async () => {
    const started = await runCli(['rollback', '--run', 'mig-1', ...service()]);
    expect(started.code).toBe(0);
    const body = JSON.parse(started.stdout) as { run_id: string; rollback_of: string; dry_run: boolean };
    expect(body).toMatchObject({ dry_run: false, rollback_of: 'mig-1' });
    expect(await t.repos.runs.get(body.run_id)).toMatchObject({
      kind: 'rollback',
      target_run_id: 'mig-1',
      triggered_by: 'ops (cli)',
    });
    const again = await runCli(['rollback', '--run', 'mig-1', ...service()]);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('409 JOB_ALREADY_RUNNING');
    expect(await rollbackRuns()).toBe(1);
  });

  it('is unreachable-safe: exit 1 when the service does not answer', async () => {
    const res = await runCli([
      'rollback',
      '--run',
      'mig-1',
      '--url',
      'http://127.0.0.1:9',
      '--password',
      'x',
    ]);
    expect(res.code).toBe(1);
    expect(res.stderr).toContain('cannot reach the service');
  });
});

describe('notes-migrator failures --kind', () => {
  it('refuses an unknown kind with exit 2', async () => {
    const res = await runCli(['failures', '--cid', '7301', '--kind', 'teleport', ...service()]);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain('--kind must be one of migrate, dry-run, reconcile, repair, rollback');
  });

  it('exports the records of one kind', async () => {
    await t.repos.failures.recordMany(
      [
        {
          cid: '7301',
          companySsoId: 'co-7301',
          runId: 'rc',
          kind: 'reconcile',
          legacyCrmNoteId: '1',
          reasonCode: 'RECONCILE_STALE',
          details: {},
        },
        {
          cid: '7301',
          companySsoId: 'co-7301',
          runId: 'mig-1',
          kind: 'migrate',
          legacyCrmNoteId: '2',
          reasonCode: 'OWNER_NOT_MAPPED',
          details: {},
        },
      ],
      new Date(),
    );
    const all = await runCli(['failures', '--cid', '7301', ...service()]);
    const onlyReconcile = await runCli(['failures', '--cid', '7301', '--kind', 'reconcile', ...service()]);
    const codes = (out: string) =>
      out
        .trim()
        .split('\n')
        .map((l) => (JSON.parse(l) as { reason_code: string }).reason_code);
    expect(codes(all.stdout)).toEqual(['OWNER_NOT_MAPPED']);
    expect(codes(onlyReconcile.stdout)).toEqual(['RECONCILE_STALE']);
  });
});

describe('notes-migrator fake-crm --mutate', () => {
  it('prints the plan of the tenant as changed, with what reconcile and repair must find', async () => {
    const res = await runCli([
      'fake-crm',
      '--plan-only',
      '--preset',
      'clean',
      '--tenant',
      '51:co-51:10',
      '--mutate',
      '51:edit:3',
      '--mutate',
      '51:delete:5',
      '--mutate',
      '51:add:2',
    ]);
    expect(res.code).toBe(0);
    const plan = (
      JSON.parse(res.stdout) as {
        plans: {
          firstNoteId: number;
          notesTotal: number;
          mutation: { reconcile: unknown; repair: unknown };
        }[];
      }
    ).plans[0]!;
    const id = (k: number) => plan.firstNoteId + k;
    expect(plan.notesTotal).toBe(11);
    expect(plan.mutation.reconcile).toEqual({
      ok: 8,
      missing: [id(10), id(11)],
      stale: [id(3)],
      still_failing: [],
      orphan: [id(5)],
    });
    expect(plan.mutation.repair).toEqual({ inserts: 2, replaces: 1 });
  });

  it.each([
    ['an index past the end', ['--mutate', '51:edit:10']],
    ['an unknown op', ['--mutate', '51:rename:1']],
    ['an unknown tenant', ['--mutate', '52:edit:1']],
  ])('refuses %s with exit 2', async (_name, args) => {
    const res = await runCli([
      'fake-crm',
      '--plan-only',
      '--preset',
      'clean',
      '--tenant',
      '51:co-51:10',
      ...args,
    ]);
    expect(res.code).toBe(2);
    expect(res.stderr.length).toBeGreaterThan(0);
  });
});
