/**
 * `notes-migrator fake-crm`: serves the fake CRM (src/crm/fake) for local runs, demos and
 * benchmarks, prints its URL, its behaviour and every tenant's plan as JSON on stdout, optionally
 * seeds the matching CDP contacts and users, and stays up until SIGINT/SIGTERM (a second signal kills).
 */
import type { Command } from 'commander';

import type { FakeCrmBehaviourOptions } from '../crm/fake/fake-crm-behaviour.js';
import type { FakeCrmFaultOptions } from '../crm/fake/fake-crm-faults.js';
import type { FakeCrm } from '../crm/fake/fake-crm-server.js';
import type { FakeTenantMix, FakeTenantOptions, FakeTenantPreset } from '../crm/fake/fake-tenant-options.js';
import { AppError, toError } from '../errors.js';
import { createLogger } from '../logger.js';
import { setOwn } from '../own-properties.js';
import { type CliIo, EXIT, loadConfigOrReport, writeLine } from './cli-io.js';

export interface FakeCrmCommandDeps {
  /** Resolves when the server should stop. Default: the first SIGINT or SIGTERM. */
  waitForShutdown?: () => Promise<void>;
  /** Called once the server listens (tests use it to reach the server). */
  onListening?: (fake: FakeCrm) => void;
}

interface FakeCrmCliOptions {
  host: string;
  port: string;
  auth?: string | false;
  tenant: string[];
  preset: string;
  mix: string[];
  publicUrl?: string;
  faultSeed: string;
  fault5xx: string;
  fault429: string;
  retryAfter: string;
  fault423: string;
  faultSlow: string;
  slowMs: string;
  faultDrop: string;
  faultBadEnvelope: string;
  faultGarbled: string;
  behaviour: string;
  behaviourSeed?: string;
  behaviourSet: string[];
  seedCdp?: boolean;
  planOnly?: boolean;
  mutate: string[];
}

const collect = (value: string, previous: string[]) => [...previous, value];

function waitForSignal(): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      process.off('SIGINT', done);
      process.off('SIGTERM', done);
      resolve();
    };
    // `once` semantics per signal: a second signal finds no handler and kills the process.
    process.once('SIGINT', done);
    process.once('SIGTERM', done);
  });
}

/** `cid:companySsoId:count[:seed]` → tenant options. */
export function parseTenantSpec(
  spec: string,
  preset: FakeTenantPreset,
  mix: Partial<FakeTenantMix>,
): FakeTenantOptions {
  const parts = spec.split(':');
  const [cid, companySsoId, count, seed] = parts;
  if (parts.length < 3 || parts.length > 4 || !cid || !companySsoId || !count || !/^\d+$/.test(count)) {
    throw new AppError(
      'VALIDATION_ERROR',
      `--tenant must be cid:companySsoId:count[:seed], got ${JSON.stringify(spec)}`,
    );
  }
  if (seed !== undefined && !/^\d+$/.test(seed)) {
    throw new AppError(
      'VALIDATION_ERROR',
      `--tenant seed must be a non-negative integer, got ${JSON.stringify(seed)}`,
    );
  }
  return {
    cid,
    companySsoId,
    noteCount: Number(count),
    seed: seed === undefined ? 1 : Number(seed),
    preset,
    mix,
  };
}

function parseNumber(flag: string, raw: string): number {
  const n = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(n)) {
    throw new AppError('VALIDATION_ERROR', `${flag} must be a number, got ${JSON.stringify(raw)}`);
  }
  return n;
}

function parseMix(entries: string[]): Partial<FakeTenantMix> {
  const mix: Record<string, number> = {};
  for (const entry of entries) {
    const m = /^(\w+)=(.+)$/.exec(entry);
    if (!m?.[1] || !m[2])
      throw new AppError('VALIDATION_ERROR', `--mix must be key=fraction, got ${JSON.stringify(entry)}`);
    setOwn(mix, m[1], parseNumber(`--mix ${m[1]}`, m[2]));
  }
  return mix;
}

export function registerFakeCrmCommand(program: Command, io: CliIo, deps: FakeCrmCommandDeps = {}): void {
  program
    .command('fake-crm')
    .description('Serve a fake legacy CRM (contract of DESIGN.md §7) with seeded tenants and optional faults')
    .option('--host <host>', 'interface to listen on', '127.0.0.1')
    .option('--port <port>', 'port to listen on (0 picks a free one)', '4010')
    .option('--auth <value>', 'Authorization value required (default: CRM_API_AUTH, else the dev token)')
    .option('--no-auth', 'accept requests without an Authorization header')
    .option('--tenant <spec>', 'cid:companySsoId:count[:seed], repeatable', collect, [])
    .option('--preset <name>', 'realistic | clean | messy', 'realistic')
    .option(
      '--mix <key=fraction>',
      'override one share of the preset, repeatable (e.g. attachmentShare=0)',
      collect,
      [],
    )
    .option('--public-url <url>', 'base URL written into attachment URLs (default: the listening URL)')
    .option('--fault-seed <n>', 'seed of the per-request fault draw', '1')
    .option('--fault-5xx <share>', 'share of notes requests answered 500/502/503/504', '0')
    .option('--fault-429 <share>', 'share answered 429 with Retry-After', '0')
    .option('--retry-after <value>', 'Retry-After sent with 429: seconds or an HTTP-date', '1')
    .option('--fault-423 <share>', 'share answered 423 Locked', '0')
    .option('--fault-slow <share>', 'share whose headers are delayed by --slow-ms', '0')
    .option('--slow-ms <ms>', 'delay of a slow response', '15000')
    .option('--fault-drop <share>', 'share whose connection is dropped (before headers or mid-body)', '0')
    .option(
      '--fault-bad-envelope <share>',
      'share answered 200 with an envelope that breaks the contract',
      '0',
    )
    .option('--fault-garbled <share>', 'share answered 200 with a cut-off JSON body', '0')
    .option(
      '--behaviour <preset>',
      'latency, rate limit and concurrency cap: instant | realistic | hubspot-like | pipedrive-like | slow',
      'instant',
    )
    .option('--behaviour-seed <n>', 'seed of the latency draws (default 1)')
    .option(
      '--behaviour-set <key=value>',
      'override one figure of the behaviour, repeatable (e.g. latency.sigma=0.6, rateLimit.windowLimit=100)',
      collect,
      [],
    )
    .option(
      '--mutate <cid:op:n>',
      'change a tenant as CRM did after a migration, repeatable: edit:K, delete:K, contact:K (0-based note index), add:N (docs/crm.md)',
      collect,
      [],
    )
    .option('--seed-cdp', 'write the matching contacts and users to MongoDB (needs MONGODB_URI)')
    .option('--plan-only', 'print the plans (and seed, with --seed-cdp) without serving')
    .action(async (opts: FakeCrmCliOptions) => {
      const config = loadConfigOrReport(io);
      if (!config) return;
      const { startFakeCrm, FAKE_CRM_DEFAULT_AUTH } = await import('../crm/fake/fake-crm-server.js');
      const { resolveFakeTenant, FAKE_TENANT_PRESETS } = await import('../crm/fake/fake-tenant-options.js');
      const { applyFakeCrmBehaviourSetting, resolveFakeCrmBehaviour } =
        await import('../crm/fake/fake-crm-behaviour.js');
      const { createFakeMutationState } = await import('../crm/fake/fake-crm-mutation-routes.js');
      const { parseMutationSpec } = await import('../crm/fake/fake-tenant-mutations.js');
      let tenants: FakeTenantOptions[];
      let faults: FakeCrmFaultOptions;
      let behaviour: FakeCrmBehaviourOptions;
      let port: number;
      let mutations: (ReturnType<typeof parseMutationSpec> & { cid: string })[];
      try {
        const preset = opts.preset as FakeTenantPreset;
        if (!FAKE_TENANT_PRESETS.includes(preset)) {
          throw new AppError(
            'VALIDATION_ERROR',
            `--preset must be one of ${FAKE_TENANT_PRESETS.join(', ')}, got ${JSON.stringify(opts.preset)}`,
          );
        }
        const mix = parseMix(opts.mix);
        const specs = opts.tenant.length > 0 ? opts.tenant : ['1001:company-1001:5000:1'];
        tenants = specs.map((spec) => parseTenantSpec(spec, preset, mix));
        tenants.forEach(resolveFakeTenant);
        faults = {
          seed: parseNumber('--fault-seed', opts.faultSeed),
          serverErrorShare: parseNumber('--fault-5xx', opts.fault5xx),
          rateLimitShare: parseNumber('--fault-429', opts.fault429),
          retryAfter: opts.retryAfter,
          lockedShare: parseNumber('--fault-423', opts.fault423),
          slowShare: parseNumber('--fault-slow', opts.faultSlow),
          slowMs: parseNumber('--slow-ms', opts.slowMs),
          dropShare: parseNumber('--fault-drop', opts.faultDrop),
          malformedEnvelopeShare: parseNumber('--fault-bad-envelope', opts.faultBadEnvelope),
          garbledBodyShare: parseNumber('--fault-garbled', opts.faultGarbled),
        };
        port = parseNumber('--port', opts.port);
        mutations = opts.mutate.map((spec) => {
          const at = spec.indexOf(':');
          return { cid: spec.slice(0, at), ...parseMutationSpec(at > 0 ? spec.slice(at + 1) : spec) };
        });
        // Unknown cids and note indices out of range are refused here, before anything is served.
        createFakeMutationState(new Map(tenants.map((t) => [t.cid, resolveFakeTenant(t)])), mutations);
        behaviour = { preset: opts.behaviour as NonNullable<FakeCrmBehaviourOptions['preset']> };
        if (opts.behaviourSeed !== undefined)
          behaviour.seed = parseNumber('--behaviour-seed', opts.behaviourSeed);
        for (const setting of opts.behaviourSet) applyFakeCrmBehaviourSetting(behaviour, setting);
        resolveFakeCrmBehaviour(behaviour);
      } catch (e) {
        if (!(e instanceof AppError)) throw e;
        writeLine(io.stderr, e.message);
        io.setExitCode(EXIT.rejected);
        return;
      }

      let cdpSeed: Record<string, unknown> | undefined;
      if (opts.seedCdp) {
        if (!config.mongo.uri) {
          writeLine(
            io.stderr,
            'MONGODB_URI: expected a MongoDB connection string for --seed-cdp, got nothing (unset)',
          );
          io.setExitCode(EXIT.config);
          return;
        }
        const { connectMongo } = await import('../db/mongo-client.js');
        const { seedCdp } = await import('../crm/fake/cdp-seed.js');
        const mongo = await connectMongo({ uri: config.mongo.uri, dbName: config.mongo.dbName });
        try {
          cdpSeed = {};
          for (const t of tenants) setOwn(cdpSeed, t.cid, await seedCdp(mongo.db, resolveFakeTenant(t)));
        } finally {
          await mongo.close();
        }
      }

      if (opts.planOnly) {
        const resolved = new Map(tenants.map((t) => [t.cid, resolveFakeTenant(t)]));
        const state = createFakeMutationState(resolved, mutations);
        const plans = [...resolved.values()].map((t) => state.plan(t));
        writeLine(io.stdout, JSON.stringify({ plans, ...(cdpSeed ? { cdpSeed } : {}) }, null, 2));
        return;
      }

      const auth = opts.auth === false ? null : (opts.auth ?? config.crm.auth ?? FAKE_CRM_DEFAULT_AUTH);
      const fake = await startFakeCrm({
        host: opts.host,
        port,
        auth,
        tenants,
        faults,
        behaviour,
        ...(opts.publicUrl ? { publicUrl: opts.publicUrl } : {}),
        mutations,
        logger: createLogger({ level: config.logLevel, name: 'fake-crm', destination: io.stderr }),
      });
      try {
        const plans = tenants.map((t) => fake.plan(t.cid));
        writeLine(
          io.stdout,
          JSON.stringify(
            {
              url: fake.url,
              authRequired: auth !== null,
              behaviour: fake.behaviour,
              plans,
              ...(cdpSeed ? { cdpSeed } : {}),
            },
            null,
            2,
          ),
        );
        deps.onListening?.(fake);
        await (deps.waitForShutdown ?? waitForSignal)();
      } catch (e) {
        writeLine(io.stderr, `fake-crm: ${toError(e).message}`);
        io.setExitCode(EXIT.unexpected);
      } finally {
        await fake.stop();
      }
    });
}
