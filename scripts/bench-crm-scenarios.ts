/**
 * The CRM scenarios of `npm run bench` (#15): the same clean tenant migrated through fake CRMs
 * that behave like real ones — `instant` (DB-bound), `realistic` (~0.9 s a page, 200 requests per
 * 10 s), `slow` (CRM-bound, 0.5 requests/s) — each run pipelined (PAGE_PREFETCH) and sequential
 * (PAGE_PREFETCH=0), each against its own limit measured in the same run: the raw write limit,
 * the CRM's fetch limit (a plain client paging the same fake with the same in-flight window), or
 * the smaller of the two.
 */
import { seedCdp } from '../src/crm/fake/cdp-seed.js';
import type { FakeCrmBehaviourOptions } from '../src/crm/fake/fake-crm-behaviour.js';
import type { FakeCrmCountersSnapshot } from '../src/crm/fake/fake-crm-counters.js';
import { FAKE_CRM_DEFAULT_AUTH, startFakeCrm } from '../src/crm/fake/fake-crm-server.js';
import { type FakeTenantOptions, resolveFakeTenant } from '../src/crm/fake/fake-tenant-options.js';
import { MIGRATION_FLAG } from '../src/domain.js';
import { measuredRun, type RunContext, type RunFigures } from './bench-run.js';
import { type CrmFetchLimit, measureCrmFetchLimit } from './crm-fetch-limit.js';

export type LimitedBy = 'write' | 'fetch' | 'min';

export interface CrmScenario {
  name: 'instant' | 'realistic' | 'slow';
  behaviour: FakeCrmBehaviourOptions;
  /** What bounds this scenario's throughput (#15 "Bench scenarios"). */
  limitedBy: LimitedBy;
}

export const CRM_SCENARIOS: readonly CrmScenario[] = [
  { name: 'instant', behaviour: { preset: 'instant' }, limitedBy: 'write' },
  { name: 'realistic', behaviour: { preset: 'realistic' }, limitedBy: 'min' },
  { name: 'slow', behaviour: { preset: 'slow' }, limitedBy: 'fetch' },
];

export interface CrmRequestFigures {
  requests: number;
  rateLimited: number;
  /** 429s ÷ requests. */
  rateLimitedShare: number;
  inFlightPeak: number;
}

export interface ScenarioFigures {
  name: CrmScenario['name'];
  limitedBy: LimitedBy;
  pipelined: RunFigures & { crm: CrmRequestFigures };
  sequential: RunFigures & { crm: CrmRequestFigures };
  fetchLimit: CrmFetchLimit;
  sequentialFetchLimit: CrmFetchLimit;
  writeLimitDocsPerSec: number;
  /** The scenario's limit in notes/s, and the pipelined run ÷ it. */
  limitNotesPerSec: number;
  ratio: number;
  /** The sequential run ÷ its own limit (fetch limit with one request in flight). */
  sequentialRatio: number;
}

export interface ScenarioOptions {
  notes: number;
  pagePrefetch: number;
  /**
   * Raw bulk upserts/s of this tenant's finished documents under the worker's conditions (change
   * stream open when it holds one), measured when called: right after the scenario's runs, so
   * the limit and the runs see the same database.
   */
  writeLimit: (companySsoId: string) => Promise<number>;
  /** First of three CIDs this scenario's tenants use. */
  cidBase: number;
}

export async function measureCrmScenario(
  ctx: RunContext,
  scenario: CrmScenario,
  options: ScenarioOptions,
): Promise<ScenarioFigures> {
  const tenant = (offset: number, role: string): FakeTenantOptions => ({
    cid: String(options.cidBase + offset),
    companySsoId: `co-bench-${scenario.name}-${role}`,
    noteCount: options.notes,
    seed: options.cidBase + offset,
    preset: 'clean',
  });
  const [pipelinedTenant, sequentialTenant, probeTenant] = [
    tenant(0, 'pipelined'),
    tenant(1, 'sequential'),
    tenant(2, 'probe'),
  ];
  const crm = await startFakeCrm({
    tenants: [pipelinedTenant, sequentialTenant, probeTenant],
    behaviour: { seed: options.cidBase, ...scenario.behaviour },
    logger: ctx.logger,
  });
  try {
    for (const t of [pipelinedTenant, sequentialTenant]) {
      await seedCdp(ctx.db, resolveFakeTenant(t));
      await ctx.repos.featureFlags.setFlag(t.cid, MIGRATION_FLAG, true, new Date());
    }
    const measure = async (t: FakeTenantOptions, prefetch: number) => {
      crm.reset('all');
      const figures = await measuredRun(ctx, crm, t, prefetch);
      return { ...figures, crm: requestFigures(crm.counters()) };
    };
    ctx.say(`      pipelined (PAGE_PREFETCH=${options.pagePrefetch}):`);
    const pipelined = await measure(pipelinedTenant, options.pagePrefetch);
    ctx.say('      sequential (PAGE_PREFETCH=0):');
    const sequential = await measure(sequentialTenant, 0);
    const fetchLimitWith = async (inFlight: number) => {
      crm.reset('all');
      const limit = await measureCrmFetchLimit({
        url: crm.url,
        auth: FAKE_CRM_DEFAULT_AUTH,
        cid: probeTenant.cid,
        perPage: ctx.pageSize,
        inFlight,
      });
      ctx.say(
        `      fetch limit, ${inFlight} in flight: ${limit.notesPerSecond} notes/s (${limit.rateLimited} × 429)`,
      );
      return limit;
    };
    const fetchLimit = await fetchLimitWith(Math.max(1, options.pagePrefetch));
    const sequentialFetchLimit = await fetchLimitWith(1);
    ctx.say("      write limit (raw bulk upsert of the pipelined run's documents):");
    const writeLimitDocsPerSec = await options.writeLimit(pipelinedTenant.companySsoId);
    const limitNotesPerSec = limitOf(scenario.limitedBy, writeLimitDocsPerSec, fetchLimit.notesPerSecond);
    const sequentialLimit = limitOf(
      scenario.limitedBy,
      writeLimitDocsPerSec,
      sequentialFetchLimit.notesPerSecond,
    );
    return {
      name: scenario.name,
      limitedBy: scenario.limitedBy,
      pipelined,
      sequential,
      fetchLimit,
      sequentialFetchLimit,
      writeLimitDocsPerSec,
      limitNotesPerSec,
      ratio: pipelined.notesPerSec / limitNotesPerSec,
      sequentialRatio: sequential.notesPerSec / sequentialLimit,
    };
  } finally {
    await crm.stop();
  }
}

function limitOf(by: LimitedBy, writeLimit: number, fetchLimit: number): number {
  if (by === 'write') return writeLimit;
  if (by === 'fetch') return fetchLimit;
  return Math.min(writeLimit, fetchLimit);
}

function requestFigures(c: FakeCrmCountersSnapshot): CrmRequestFigures {
  return {
    requests: c.requests,
    rateLimited: c.rateLimited,
    rateLimitedShare: c.requests > 0 ? c.rateLimited / c.requests : 0,
    inFlightPeak: c.inFlight.peak,
  };
}
