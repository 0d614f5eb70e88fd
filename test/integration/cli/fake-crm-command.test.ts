import { PassThrough } from 'node:stream';

import { Command } from 'commander';
import { request } from 'undici';
import { describe, expect, it } from 'vitest';

import type { CliIo } from '../../../src/cli/cli-io.js';
import { registerFakeCrmCommand } from '../../../src/cli/fake-crm-command.js';
import type { FakeCrm } from '../../../src/crm/fake/fake-crm-server.js';
import { trackResource } from '../../helpers/leak-check.js';
import { useTestDb } from '../../helpers/test-db.js';
import { waitFor } from '../../helpers/wait-for.js';

const t = useTestDb(import.meta.url);

function cli(env: Record<string, string | undefined> = {}) {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out: string[] = [];
  const err: string[] = [];
  stdout.on('data', (c: Buffer) => out.push(c.toString()));
  stderr.on('data', (c: Buffer) => err.push(c.toString()));
  let exitCode = 0;
  const io: CliIo = { env, stdin: new PassThrough(), stdout, stderr, setExitCode: (c) => (exitCode = c) };
  let stop!: () => void;
  const shutdown = new Promise<void>((resolve) => (stop = resolve));
  let listening: FakeCrm | undefined;
  const program = new Command().exitOverride();
  registerFakeCrmCommand(program, io, {
    waitForShutdown: () => shutdown,
    onListening: (fake) => {
      listening = fake;
      trackResource(
        `fake-crm command server ${fake.url}`,
        () => fake.isListening(),
        () => fake.stop(),
      );
    },
  });
  const run = (...args: string[]) => program.parseAsync(['node', 'notes-migrator', 'fake-crm', ...args]);
  return {
    run,
    stop,
    out: () => out.join(''),
    err: () => err.join(''),
    exitCode: () => exitCode,
    listening: () => listening,
  };
}

describe('notes-migrator fake-crm', () => {
  it('prints the plan of every tenant with --plan-only', async () => {
    const c = cli();
    await c.run('--plan-only', '--tenant', '1:co-1:100:3', '--tenant', '2:co-2:50', '--preset', 'clean');
    const printed = JSON.parse(c.out()) as {
      plans: Array<{ cid: string; notesTotal: number; expectedMigrated: number }>;
    };
    expect(printed.plans.map((p) => [p.cid, p.notesTotal, p.expectedMigrated])).toEqual([
      ['1', 100, 100],
      ['2', 50, 50],
    ]);
    expect(c.exitCode()).toBe(0);
  });

  it('serves until shut down, printing its URL and the plan', async () => {
    const c = cli({ CRM_API_AUTH: 'Token from-env' });
    const running = c.run('--port', '0', '--tenant', '7:co-7:30:1', '--fault-5xx', '0');
    await waitFor(c.listening, Boolean, { what: 'the fake CRM listening' });
    const printed = JSON.parse(c.out()) as { url: string; authRequired: boolean; plans: unknown[] };
    expect(printed).toMatchObject({ url: c.listening()!.url, authRequired: true });
    const res = await request(`${printed.url}/v1/organizations/7/person_notes?page=1&per_page=30`, {
      headers: { authorization: 'Token from-env' },
    });
    const body = (await res.body.json()) as { data: unknown[] };
    expect(body.data).toHaveLength(30);
    c.stop();
    await running;
    expect(c.listening()!.isListening()).toBe(false);
  });

  it('writes the CDP seed to MONGODB_URI with --seed-cdp', async () => {
    const c = cli({ MONGODB_URI: t.dbUri });
    await c.run('--plan-only', '--seed-cdp', '--tenant', '8:co-8:400:2');
    const printed = JSON.parse(c.out()) as { plans: Array<{ cdp: { contacts: number; users: number } }> };
    const planned = printed.plans[0]!.cdp;
    expect(await t.collections.contacts.countDocuments({ company_sso_id: 'co-8' })).toBe(planned.contacts);
    expect(await t.collections.users.countDocuments({ company_sso_id: 'co-8' })).toBe(planned.users);
  });

  it('rejects a malformed --tenant with exit code 2 and says what it expected', async () => {
    const c = cli();
    await c.run('--plan-only', '--tenant', '7:co-7:many');
    expect(c.exitCode()).toBe(2);
    expect(c.err()).toContain('--tenant must be cid:companySsoId:count[:seed]');
  });

  it('serves the instant behaviour unless told otherwise, and prints it', async () => {
    const c = cli();
    const running = c.run('--port', '0', '--tenant', '7:co-7:30:1');
    await waitFor(c.listening, Boolean, { what: 'the fake CRM listening' });
    const printed = JSON.parse(c.out()) as {
      behaviour: { preset: string; rateLimit: { windowLimit: number } };
    };
    expect(printed.behaviour).toMatchObject({ preset: 'instant', rateLimit: { windowLimit: 0 } });
    c.stop();
    await running;
  });

  it('serves a behaviour preset with --behaviour, tuned by --behaviour-seed and --behaviour-set', async () => {
    const c = cli();
    const running = c.run(
      '--port',
      '0',
      '--tenant',
      '7:co-7:30:1',
      '--behaviour',
      'realistic',
      '--behaviour-seed',
      '5',
      '--behaviour-set',
      'rateLimit.windowLimit=2',
      '--behaviour-set',
      'rateLimit.perSecondLimit=0',
      '--behaviour-set',
      'latency.baseMs=0',
      '--behaviour-set',
      'latency.perNoteMs=0',
      '--behaviour-set',
      'latency.tailShare=0',
    );
    await waitFor(c.listening, Boolean, { what: 'the fake CRM listening' });
    const fake = c.listening()!;
    expect(fake.behaviour).toMatchObject({
      preset: 'realistic',
      seed: 5,
      rateLimit: { windowLimit: 2, perSecondLimit: 0 },
      latency: { sigma: 0.45 },
    });
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await request(`${fake.url}/v1/organizations/7/person_notes?page=1&per_page=30`, {
        headers: { authorization: 'Token fake-crm-dev-token' },
      });
      await res.body.dump();
      statuses.push(res.statusCode);
    }
    expect(statuses).toEqual([200, 200, 429]);
    const counters = await request(`${fake.url}/_fake/counters`);
    expect(await counters.body.json()).toMatchObject({ behaviour: 'realistic', requests: 3, rateLimited: 1 });
    c.stop();
    await running;
  });

  it.each([
    [
      ['--behaviour', 'zoho'],
      'preset must be one of instant, realistic, hubspot-like, pipedrive-like, slow, got "zoho"',
    ],
    [['--behaviour-set', 'latency.median=3'], 'unknown behaviour setting "latency.median"'],
    [['--behaviour-set', 'latency.sigma=-2'], 'latency.sigma must be ≥ 0, got -2'],
    [['--behaviour-seed', 'x'], '--behaviour-seed must be a number'],
  ])('rejects %j with exit code 2 and a readable message', async (args, message) => {
    const c = cli();
    await c.run('--port', '0', ...args);
    expect(c.exitCode()).toBe(2);
    expect(c.err()).toContain(message);
    expect(c.listening()).toBeUndefined();
  });

  it('needs MONGODB_URI for --seed-cdp', async () => {
    const c = cli();
    await c.run('--plan-only', '--seed-cdp');
    expect(c.exitCode()).toBe(78);
    expect(c.err()).toContain('MONGODB_URI');
  });
});
