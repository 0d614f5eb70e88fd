/**
 * The fake CRM: a real node:http server speaking the contract of DESIGN.md §7 from seeded
 * generators, with fault injection on the notes endpoint and the attachment files the notes point
 * at (`/files/...`, public like CRM's S3, so no auth). Nothing is held per note: every page and
 * file is generated while it is written. How it behaves as a server (latency, rate limit,
 * concurrency cap, counters on `/_fake/...`) is `fake-crm-behaviour-runtime.ts` (#15). Over 300
 * lines because the notes route is one flow (door, faults, latency, page) over one closure's state.
 */
import { timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

import { toError } from '../../errors.js';
import { createSilentLogger, type Logger } from '../../logger.js';
import { countOwn } from '../../own-properties.js';
import { CRM_MAX_PAGE_SIZE } from '../crm-notes-extractor.js';
import { handleFakeOnlyRoute, isFakeOnlyRoute } from './fake-crm-admin-routes.js';
import {
  type FakeCrmBehaviour,
  type FakeCrmBehaviourOptions,
  resolveFakeCrmBehaviour,
} from './fake-crm-behaviour.js';
import {
  createFakeCrmBehaviourRuntime,
  type FakeCrmBehaviourRuntime,
  type FakeCrmResetScope,
} from './fake-crm-behaviour-runtime.js';
import { type FakeCrmClock, REAL_FAKE_CRM_CLOCK } from './fake-crm-clock.js';
import { type FakeCrmCountersSnapshot, fakeCrmTokenLabel } from './fake-crm-counters.js';
import {
  assertFaultOptions,
  FAKE_CRM_FAULT_KINDS,
  type FakeCrmFaultAction,
  type FakeCrmFaultKind,
  type FakeCrmFaultOptions,
  pickShareFault,
} from './fake-crm-faults.js';
import {
  createFakeMutationState,
  type FakeServedPlan,
  handleMutationRoute,
  isMutationRoute,
} from './fake-crm-mutation-routes.js';
import { findFakeFile } from './fake-files.js';
import { responseSignal, sendJson, streamChunks, waitUnlessClosed } from './fake-http-io.js';
import { createFakeNoteGenerator, type FakeNoteGenerator } from './fake-note-generator.js';
import { fakeNotesPageChunks } from './fake-notes-page.js';
import type { FakeMutationRequest } from './fake-tenant-mutations.js';
import { type FakeTenantOptions, resolveFakeTenant } from './fake-tenant-options.js';

/** Default `Authorization` value the fake CRM requires (set CRM_API_AUTH to the same). */
export const FAKE_CRM_DEFAULT_AUTH = 'Token fake-crm-dev-token';

export interface FakeNotesRequestInfo {
  /** 0-based sequence number of this notes request. */
  seq: number;
  cid: string;
  page: number;
  perPage: number;
  headers: IncomingHttpHeaders;
}

export interface FakeCrmOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** 0 (default) picks a free port. */
  port?: number;
  /** The exact `Authorization` value required (401 otherwise); null accepts anything. Default `FAKE_CRM_DEFAULT_AUTH`. */
  auth?: string | null;
  tenants: FakeTenantOptions[];
  faults?: FakeCrmFaultOptions;
  /**
   * Latency, rate limit and concurrency cap: a preset (default `instant`, i.e. none of them) plus
   * overrides. See fake-crm-behaviour.ts and docs/crm.md §4.
   */
  behaviour?: FakeCrmBehaviourOptions;
  /** Time for the behaviour (latency waits, rate windows); default the real clock. Tests inject one. */
  clock?: FakeCrmClock;
  /**
   * Sees every notes request the behaviour admits (all of them unless a rate limit or cap refuses
   * some); its answer is the fault when none is queued (shares come last). Null for none.
   */
  onNotesRequest?: (info: FakeNotesRequestInfo) => FakeCrmFaultAction | null | undefined;
  /** Base URL written into attachment URLs. Default: the URL the server listens on. */
  publicUrl?: string;
  /** Changes applied to tenants before the first request (`fake-tenant-mutations.ts`, #14). */
  mutations?: readonly ({ cid: string } & FakeMutationRequest)[];
  logger?: Logger;
}

export interface FakeCrmStats {
  requests: number;
  notesRequests: number;
  fileRequests: number;
  /** Responses by status; `0` counts connections dropped before any header. */
  byStatus: Record<string, number>;
  faults: Record<FakeCrmFaultKind, number>;
  notesServed: number;
  fileBytesServed: number;
}

export interface FakeCrm {
  url: string;
  port: number;
  /** Live counters. */
  readonly stats: Readonly<FakeCrmStats>;
  /** The resolved behaviour (preset and every figure). */
  readonly behaviour: FakeCrmBehaviour;
  /** The notes endpoint's counters, as `GET /_fake/counters` serves them. */
  counters(): FakeCrmCountersSnapshot;
  /** `counters` (default) zeroes them; `all` also forgets rate windows and latency draws. */
  reset(scope?: FakeCrmResetScope): void;
  /** What CRM serves now; with `mutation` (what reconcile and repair must find) once mutated. */
  plan(cid: string): FakeServedPlan;
  /** Changes a tenant from now on, as `POST /_fake/tenants/{cid}/mutations` does. */
  mutate(cid: string, request: FakeMutationRequest): FakeServedPlan;
  /** Applies `action` to the next `times` notes requests, before any other fault. */
  injectFaults(action: FakeCrmFaultAction, times?: number): void;
  /** Closes every connection (slow responses included) and the server. Idempotent. */
  stop(): Promise<void>;
  /** True until `stop()` completes. */
  isListening(): boolean;
}

const NOTES_ROUTE = /^\/v1\/organizations\/([^/]+)\/person_notes$/;
const FILES_ROUTE = /^\/files\/([^/]+)\/(\d+)\/(\d+)\/[^/]+$/;
const DEFAULT_PER_PAGE = 500;

export async function startFakeCrm(options: FakeCrmOptions): Promise<FakeCrm> {
  const log = (options.logger ?? createSilentLogger()).child({ component: 'fake_crm' });
  const tenants = new Map(options.tenants.map((o) => [o.cid, resolveFakeTenant(o)]));
  if (tenants.size !== options.tenants.length) {
    throw new Error('startFakeCrm: two tenants share a cid; each cid must be listed once');
  }
  const faults = options.faults ?? {};
  assertFaultOptions(faults);
  const auth = options.auth === undefined ? FAKE_CRM_DEFAULT_AUTH : options.auth;
  const runtime: FakeCrmBehaviourRuntime = createFakeCrmBehaviourRuntime(
    resolveFakeCrmBehaviour(options.behaviour),
    options.clock ?? REAL_FAKE_CRM_CLOCK,
  );
  const latencyHeader = runtime.behaviour.preset !== 'instant' || options.behaviour?.latency !== undefined;
  const queued: FakeCrmFaultAction[] = [];
  const stopping = new AbortController();
  const generators = new Map<string, FakeNoteGenerator>();
  const mutations = createFakeMutationState(tenants, options.mutations);
  const stats: FakeCrmStats = {
    requests: 0,
    notesRequests: 0,
    fileRequests: 0,
    byStatus: {},
    faults: Object.fromEntries(FAKE_CRM_FAULT_KINDS.map((k) => [k, 0])) as Record<FakeCrmFaultKind, number>,
    notesServed: 0,
    fileBytesServed: 0,
  };

  const isAuthorized = (header: string | undefined) => {
    // eslint-disable-next-line security/detect-possible-timing-attacks -- tests whether auth is configured at all; the credential itself is compared with timingSafeEqual below
    if (auth === null) return true;
    const given = Buffer.from(header ?? '');
    const expected = Buffer.from(auth);
    return given.length === expected.length && timingSafeEqual(given, expected);
  };

  async function handleNotes(req: IncomingMessage, res: ServerResponse, cid: string, url: URL) {
    const token = fakeCrmTokenLabel(req.headers.authorization);
    runtime.counters.notesArrived(cid, token);
    res.once('close', () => runtime.counters.notesFinished(cid, token, res.headersSent ? res.statusCode : 0));
    if (!isAuthorized(req.headers.authorization)) {
      sendJson(res, 401, { error: 'unauthorized', message: 'missing or wrong Authorization header' });
      return;
    }
    const page = Number(url.searchParams.get('page') ?? '1');
    const perPage = Number(url.searchParams.get('per_page') ?? String(DEFAULT_PER_PAGE));
    if (
      !Number.isSafeInteger(page) ||
      page < 1 ||
      !Number.isSafeInteger(perPage) ||
      perPage < 1 ||
      perPage > CRM_MAX_PAGE_SIZE
    ) {
      sendJson(res, 400, {
        error: 'invalid_paging',
        message: `page must be ≥ 1 and per_page 1..${CRM_MAX_PAGE_SIZE}`,
      });
      return;
    }
    const signal = responseSignal(res, stopping.signal);
    const admitted = await runtime.admitNotes(res, token, signal);
    if (!admitted) return;
    try {
      const served = await answerNotes(req, res, { cid, page, perPage, signal, headers: admitted.headers });
      runtime.counters.notesServed(cid, served);
    } finally {
      admitted.release();
    }
  }

  /** The admitted request's answer (a fault, an error or the page); resolves the notes served. */
  async function answerNotes(
    req: IncomingMessage,
    res: ServerResponse,
    r: { cid: string; page: number; perPage: number; signal: AbortSignal; headers: Record<string, string> },
  ): Promise<number> {
    const { cid, page, perPage } = r;
    const seq = stats.notesRequests++;
    // The hook sees every request (tests record them); a queued fault still wins over its answer.
    const hooked = options.onNotesRequest?.({ seq, cid, page, perPage, headers: req.headers });
    const action = queued.shift() ?? hooked ?? pickShareFault(faults, seq);
    if (action) {
      stats.faults[action.kind]++;
      log.debug({ seq, cid, page, fault: action }, 'fake_crm_fault');
    }
    if (action?.kind === 'status') {
      sendJson(
        res,
        action.status,
        { error: `http_${action.status}`, message: 'fault injected by the fake CRM' },
        { ...r.headers, ...(action.retryAfter === undefined ? {} : { 'retry-after': action.retryAfter }) },
      );
      return 0;
    }
    if (action?.kind === 'drop' && action.when === 'before_headers') {
      req.socket.destroy();
      return 0;
    }
    if (action?.kind === 'slow' && !(await waitUnlessClosed(res, action.delayMs, stopping.signal))) return 0;

    const generator = generators.get(cid);
    const notesOnPage = generator
      ? Math.max(0, Math.min(perPage, mutations.listing(generator).total - (page - 1) * perPage))
      : 0;
    const latencyMs = generator
      ? await runtime.waitNotesLatency({ cid, page, perPage, notesOnPage }, r.signal)
      : 0;
    if (latencyMs === null) return 0;
    const headers = {
      ...r.headers,
      ...(latencyHeader ? { 'x-fake-crm-latency-ms': String(latencyMs) } : {}),
    };
    if (action?.kind === 'malformed_envelope') {
      sendJson(res, 200, { data: 'not-a-list', meta: { page: String(page) } }, headers);
      return 0;
    }
    if (!generator) {
      sendJson(res, 404, { error: 'organization_not_found', message: `no organization ${cid}` }, headers);
      return 0;
    }
    const listing = mutations.listing(generator);
    const chunks = fakeNotesPageChunks(
      generator,
      page,
      perPage,
      action?.kind === 'corrupt_notes'
        ? {
            corruptPositions: new Set(action.positions),
            ...(action.malformation ? { corruptWith: action.malformation } : {}),
          }
        : {},
      listing,
    );
    const json = { 'content-type': 'application/json; charset=utf-8', ...headers };
    if (action?.kind === 'garbled_body' || (action?.kind === 'drop' && action.when === 'mid_body')) {
      const whole = [...chunks].join('');
      const half = whole.slice(0, Math.floor(whole.length / 2));
      if (action.kind === 'garbled_body') {
        res.writeHead(200, { ...json, 'content-length': String(Buffer.byteLength(half)) });
        res.end(half);
      } else {
        res.writeHead(200, json);
        res.write(half, () => res.destroy());
      }
      return 0;
    }
    res.writeHead(200, json);
    await streamChunks(res, chunks);
    stats.notesServed += notesOnPage;
    return notesOnPage;
  }

  async function handleFile(
    req: IncomingMessage,
    res: ServerResponse,
    cid: string,
    noteId: number,
    slot: number,
  ) {
    stats.fileRequests++;
    runtime.counters.fileRequested();
    const fileLatency = runtime.behaviour.latency.applyToFiles;
    if (
      fileLatency &&
      !(await runtime.waitFileLatency(cid, noteId, slot, responseSignal(res, stopping.signal)))
    ) {
      return;
    }
    const generator = generators.get(cid);
    const file = generator
      ? findFakeFile(generator, noteId, slot, mutations.listing(generator).indexLimit)
      : null;
    if (!file) {
      sendJson(res, 404, { error: 'file_not_found' });
      return;
    }
    // The declared type, even when the bytes are another kind: that is the mismatch.
    res.writeHead(200, { 'content-type': file.contentType, 'content-length': String(file.body.sizeBytes) });
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    stats.fileBytesServed += await streamChunks(res, file.body.chunks());
  }

  const server = createServer((req, res) => {
    stats.requests++;
    res.once('close', () => {
      const status = res.headersSent ? String(res.statusCode) : '0';
      countOwn(stats.byStatus, status);
    });
    const url = new URL(req.url ?? '/', 'http://fake-crm.local');
    const handle = async () => {
      if (isMutationRoute(url)) return handleMutationRoute(req, res, url, mutations, tenants);
      if (isFakeOnlyRoute(url)) return handleFakeOnlyRoute(req, res, url, runtime);
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        sendJson(res, 405, { error: 'method_not_allowed' }, { allow: 'GET, HEAD' });
        return;
      }
      const notes = NOTES_ROUTE.exec(url.pathname);
      if (notes?.[1]) return handleNotes(req, res, decodeURIComponent(notes[1]), url);
      const file = FILES_ROUTE.exec(url.pathname);
      if (file?.[1] && file[2] && file[3]) {
        return handleFile(req, res, decodeURIComponent(file[1]), Number(file[2]), Number(file[3]));
      }
      if (url.pathname === '/healthz') return sendJson(res, 200, { status: 'ok' });
      sendJson(res, 404, { error: 'not_found' });
    };
    handle().catch((e: unknown) => {
      log.error({ err: toError(e), path: url.pathname }, 'fake_crm_handler_failed');
      if (!res.headersSent) sendJson(res, 500, { error: 'internal' });
      else res.destroy();
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `http://${host}:${address.port}`;
  const publicUrl = options.publicUrl ?? url;
  for (const [cid, tenant] of tenants) generators.set(cid, createFakeNoteGenerator(tenant, publicUrl));
  log.info({ url, tenants: [...tenants.keys()] }, 'fake_crm_listening');

  let listening = true;
  let stopPromise: Promise<void> | undefined;
  return {
    url,
    port: address.port,
    stats,
    behaviour: runtime.behaviour,
    counters: () => runtime.counters.snapshot(),
    reset: (scope = 'counters') => runtime.reset(scope),
    plan(cid) {
      const tenant = tenants.get(cid);
      if (!tenant) throw new Error(`fake CRM has no tenant ${cid}`);
      return mutations.plan(tenant);
    },
    mutate: (cid, request) => mutations.mutate(cid, request),
    injectFaults(action, times = 1) {
      for (let i = 0; i < times; i++) queued.push(action);
    },
    isListening: () => listening,
    stop() {
      stopPromise ??= new Promise<void>((resolve, reject) => {
        stopping.abort();
        server.close((e) => {
          listening = false;
          if (e) reject(e);
          else resolve();
        });
        server.closeAllConnections();
      });
      return stopPromise;
    },
  };
}
