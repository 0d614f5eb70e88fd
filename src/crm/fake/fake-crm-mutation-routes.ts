/**
 * The fake CRM's mutable tenants (#14): the mutations applied per tenant, the listing and plan
 * that follow from them, and the fake-only route that applies more while the server runs —
 * `POST /_fake/tenants/{cid}/mutations` `{"edit":[k],"delete":[k],"add":n,"contact":[k]}` (and
 * `GET` to read them). Outside the CRM contract, like the other `/_fake/…` routes: no auth.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

import { AppError, toError, ValidationError } from '../../errors.js';
import { sendJson } from './fake-http-io.js';
import type { FakeNoteGenerator } from './fake-note-generator.js';
import {
  applyMutations,
  type FakeMutationPlan,
  type FakeMutationRequest,
  type FakeNoteListing,
  type FakeTenantMutations,
  mutatedListing,
  mutatedPositions,
  mutatedTraits,
  mutationPlanOf,
  NO_MUTATIONS,
  parseMutationRequest,
} from './fake-tenant-mutations.js';
import type { FakeTenant } from './fake-tenant-options.js';
import { computeFakeTenantPlan, type FakeTenantPlan } from './fake-tenant-plan.js';

/** A tenant's plan as CRM serves it now, with what reconcile and repair must find once it was mutated. */
export type FakeServedPlan = FakeTenantPlan & { mutation?: FakeMutationPlan };

export interface FakeMutationState {
  listing(generator: FakeNoteGenerator): FakeNoteListing;
  /** Applies a request (validated against the tenant); returns the new plan. */
  mutate(cid: string, request: FakeMutationRequest): FakeServedPlan;
  plan(tenant: FakeTenant): FakeServedPlan;
}

const MUTATIONS_ROUTE = /^\/_fake\/tenants\/([^/]+)\/mutations$/;
const MAX_BODY_BYTES = 64 * 1024;

export function createFakeMutationState(
  tenants: ReadonlyMap<string, FakeTenant>,
  initial: readonly ({ cid: string } & FakeMutationRequest)[] = [],
): FakeMutationState {
  const applied = new Map<string, FakeTenantMutations>();
  const tenantOf = (cid: string) => {
    const tenant = tenants.get(cid);
    if (!tenant) throw new AppError('NOT_FOUND', `fake CRM has no tenant ${cid}`);
    return tenant;
  };
  const mutate = (cid: string, request: FakeMutationRequest) => {
    const tenant = tenantOf(cid);
    applied.set(cid, applyMutations(tenant, applied.get(cid) ?? NO_MUTATIONS, request));
    return plan(tenant);
  };
  const plan = (tenant: FakeTenant): FakeServedPlan => {
    const mutations = applied.get(tenant.cid);
    if (!mutations) return computeFakeTenantPlan(tenant);
    const listing = mutatedPositions(tenant, mutations);
    return {
      ...computeFakeTenantPlan(tenant, {
        count: listing.total,
        traitsAt: (position) => mutatedTraits(tenant, mutations, listing.indexAt(position)),
      }),
      mutation: mutationPlanOf(tenant, mutations),
    };
  };
  for (const { cid, ...request } of initial) mutate(cid, request);
  return {
    listing: (generator) => mutatedListing(generator, applied.get(generator.tenant.cid) ?? NO_MUTATIONS),
    mutate,
    plan,
  };
}

export function isMutationRoute(url: URL): boolean {
  return MUTATIONS_ROUTE.test(url.pathname);
}

export async function handleMutationRoute(
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  state: FakeMutationState,
  tenants: ReadonlyMap<string, FakeTenant>,
): Promise<void> {
  const cid = decodeURIComponent(MUTATIONS_ROUTE.exec(url.pathname)?.[1] ?? '');
  const tenant = tenants.get(cid);
  if (!tenant)
    return sendJson(res, 404, { error: 'organization_not_found', message: `no organization ${cid}` });
  if (req.method === 'GET') return sendJson(res, 200, { cid, plan: state.plan(tenant) });
  if (req.method !== 'POST')
    return sendJson(res, 405, { error: 'method_not_allowed' }, { allow: 'GET, POST' });
  try {
    const request = parseMutationRequest(JSON.parse(await readBody(req)) as unknown);
    const plan = state.mutate(cid, request);
    sendJson(res, 200, { cid, applied: request, plan });
  } catch (e) {
    const err = toError(e);
    const status =
      err instanceof AppError && err.status < 500 ? err.status : err instanceof SyntaxError ? 400 : 500;
    sendJson(res, status, { error: status === 400 ? 'invalid_mutation' : 'internal', message: err.message });
  }
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        req.destroy();
        reject(new ValidationError(`mutation body is over ${MAX_BODY_BYTES} bytes`));
      } else chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
