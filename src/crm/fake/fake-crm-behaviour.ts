/**
 * How the fake CRM behaves as a server, apart from what its tenants hold: latency per request, a
 * rate limit per token and a concurrency cap (#15). Presets in code, every value overridable; the
 * figures and their sources are in docs/crm.md §4 and /work/shared/RESEARCH-SCALE.md §4, §7.1.
 */
import { ValidationError } from '../../errors.js';
import { ownValue, setOwn } from '../../own-properties.js';

export const FAKE_CRM_BEHAVIOUR_PRESETS = [
  'instant',
  'realistic',
  'hubspot-like',
  'pipedrive-like',
  'slow',
] as const;
export type FakeCrmBehaviourPreset = (typeof FAKE_CRM_BEHAVIOUR_PRESETS)[number];

/**
 * Latency of one notes request before its headers: lognormal around
 * `baseMs + perNoteMs × notes on the page` with log-spread `sigma` (so the absolute spread grows
 * with the page), plus a rare tail and a deep-page penalty. All zero: answered at once.
 */
export interface FakeLatencyOptions {
  /** Median of an empty page, ms. */
  baseMs: number;
  /** Median added per note on the page, ms. */
  perNoteMs: number;
  /** Standard deviation of ln(latency); 0 = always the median. p95 = median × e^(1.645 σ). */
  sigma: number;
  /** Share of requests (0..1) that also get the tail. */
  tailShare: number;
  /** The tail adds a uniform draw from tailMinMs..tailMaxMs. */
  tailMinMs: number;
  tailMaxMs: number;
  /** Added per page number beyond the first (offset scans get slower), ms. */
  deepPageMsPerPage: number;
  /** Attachment downloads (`/files/...`) get an empty page's latency too. Default false: files stay fast. */
  applyToFiles: boolean;
}

/** A limit of 0 is off. Counted per token (the `Authorization` value), across every tenant. */
export interface FakeRateLimitOptions {
  /** Length of the rolling quota window, ms. */
  windowMs: number;
  /** Requests admitted in any rolling `windowMs`. */
  windowLimit: number;
  /** Requests admitted in any rolling second (a burst ceiling under the quota). */
  perSecondLimit: number;
  /** Penalty mode: refused requests count against the window too, so a retry storm prolongs itself. */
  countRejected: boolean;
  /** Names the window in 429 bodies (HubSpot's `policyName`). */
  policyName: string;
}

/** `servedAtOnce` 0 is off. Requests beyond it wait in a FIFO queue of `maxQueued`. */
export interface FakeConcurrencyOptions {
  /** Notes requests served (waiting out their latency or streaming) at the same time. */
  servedAtOnce: number;
  /** Requests that may wait for a slot; one more is refused at once. */
  maxQueued: number;
  /** Status of a refusal: 429 (with `Retry-After: 1`, reason `concurrency`) or 503. */
  overflowStatus: 429 | 503;
}

export interface FakeCrmBehaviour {
  preset: FakeCrmBehaviourPreset;
  /** Seeds the latency and tail draws. */
  seed: number;
  latency: FakeLatencyOptions;
  rateLimit: FakeRateLimitOptions;
  concurrency: FakeConcurrencyOptions;
}

/** What callers pass: a preset (default `instant`) and overrides of any field. */
export interface FakeCrmBehaviourOptions {
  preset?: FakeCrmBehaviourPreset;
  seed?: number;
  latency?: Partial<FakeLatencyOptions>;
  rateLimit?: Partial<FakeRateLimitOptions>;
  concurrency?: Partial<FakeConcurrencyOptions>;
}

const NO_LATENCY: FakeLatencyOptions = {
  baseMs: 0,
  perNoteMs: 0,
  sigma: 0,
  tailShare: 0,
  tailMinMs: 0,
  tailMaxMs: 0,
  deepPageMsPerPage: 0,
  applyToFiles: false,
};

/** RESEARCH-SCALE §7.1: 120 ms + 1.6 ms/note (920 ms at 500), σ 0.45 (p95 1.93 s), 0.5 % tail of +5–15 s. */
const REALISTIC_LATENCY: FakeLatencyOptions = {
  baseMs: 120,
  perNoteMs: 1.6,
  sigma: 0.45,
  tailShare: 0.005,
  tailMinMs: 5_000,
  tailMaxMs: 15_000,
  deepPageMsPerPage: 0.2,
  applyToFiles: false,
};

const NO_RATE_LIMIT: FakeRateLimitOptions = {
  windowMs: 10_000,
  windowLimit: 0,
  perSecondLimit: 0,
  countRejected: false,
  policyName: 'TEN_SECONDLY_ROLLING',
};

const DEFAULT_CONCURRENCY: FakeConcurrencyOptions = { servedAtOnce: 8, maxQueued: 16, overflowStatus: 429 };

const PRESETS: Record<FakeCrmBehaviourPreset, Omit<FakeCrmBehaviour, 'seed'>> = {
  /** Today's fake: answers as fast as it can generate, no limits. The default. */
  instant: {
    preset: 'instant',
    latency: NO_LATENCY,
    rateLimit: NO_RATE_LIMIT,
    concurrency: { ...DEFAULT_CONCURRENCY, servedAtOnce: 0 },
  },
  /** RESEARCH-SCALE §0/§7.1: 20 req/s sustained (200 per rolling 10 s), 40 per rolling second, 8 + 16 queued. */
  realistic: {
    preset: 'realistic',
    latency: REALISTIC_LATENCY,
    rateLimit: { ...NO_RATE_LIMIT, windowLimit: 200, perSecondLimit: 40 },
    concurrency: DEFAULT_CONCURRENCY,
  },
  /**
   * HubSpot (R13): 100 per rolling 10 s (Free/Starter, OAuth apps per account), no second window;
   * ~0.51 s per 100-record page (118 serial pages in about a minute) → 300 ms + 2.1 ms/note
   * (1.35 s at 500); cursor paging, so no deep-page cost. Concurrency not published: the default.
   */
  'hubspot-like': {
    preset: 'hubspot-like',
    latency: { ...REALISTIC_LATENCY, baseMs: 300, perNoteMs: 2.1, deepPageMsPerPage: 0 },
    rateLimit: { ...NO_RATE_LIMIT, windowLimit: 100, perSecondLimit: 0 },
    concurrency: DEFAULT_CONCURRENCY,
  },
  /**
   * Pipedrive (R15): a rolling 2 s burst window per token, 80 per 2 s (Professional `api_token`,
   * Essential OAuth); offset paging (`start`/`limit`), so the deep-page cost stays. No published
   * latency: the realistic model. The daily token budget is not modelled.
   */
  'pipedrive-like': {
    preset: 'pipedrive-like',
    latency: REALISTIC_LATENCY,
    rateLimit: {
      ...NO_RATE_LIMIT,
      windowMs: 2_000,
      windowLimit: 80,
      perSecondLimit: 0,
      policyName: 'TWO_SECONDLY_ROLLING',
    },
    concurrency: DEFAULT_CONCURRENCY,
  },
  /**
   * A CRM-bound run: 0.5 req/s (5 per rolling 10 s, 1 per second), between Freshsales' 1,000/hour
   * (0.28/s, R17) and Zoho Standard's 50,000 credits/day (0.58/s, R16); a loaded CRM's 2 s median
   * at 500 notes (200 ms + 3.6 ms/note); 5 served at once (Zoho Free, Salesforce Dev: 5), 10 queued.
   */
  slow: {
    preset: 'slow',
    latency: { ...REALISTIC_LATENCY, baseMs: 200, perNoteMs: 3.6 },
    rateLimit: { ...NO_RATE_LIMIT, windowLimit: 5, perSecondLimit: 1 },
    concurrency: { ...DEFAULT_CONCURRENCY, servedAtOnce: 5, maxQueued: 10 },
  },
};

/** Fills a preset in with the overrides and validates the result, listing every problem at once. */
export function resolveFakeCrmBehaviour(options: FakeCrmBehaviourOptions = {}): FakeCrmBehaviour {
  const presetName = options.preset ?? 'instant';
  const preset = PRESETS[presetName] as (typeof PRESETS)[FakeCrmBehaviourPreset] | undefined;
  if (!preset) {
    throw new ValidationError(
      `fake CRM behaviour preset must be one of ${FAKE_CRM_BEHAVIOUR_PRESETS.join(', ')}, got ${JSON.stringify(presetName)}`,
    );
  }
  const behaviour: FakeCrmBehaviour = {
    preset: presetName,
    seed: options.seed ?? 1,
    latency: { ...preset.latency, ...options.latency },
    rateLimit: { ...preset.rateLimit, ...options.rateLimit },
    concurrency: { ...preset.concurrency, ...options.concurrency },
  };
  const problems = behaviourProblems(behaviour);
  if (problems.length > 0) {
    throw new ValidationError(`Invalid fake CRM behaviour: ${problems.join('; ')}`, { problems });
  }
  return behaviour;
}

function behaviourProblems(b: FakeCrmBehaviour): string[] {
  const problems: string[] = [];
  const check = (ok: boolean, key: string, rule: string, value: unknown) => {
    if (!ok) problems.push(`${key} must be ${rule}, got ${JSON.stringify(value)}`);
  };
  const nonNegative = (key: string, v: number) => check(Number.isFinite(v) && v >= 0, key, '≥ 0', v);
  const count = (key: string, v: number) =>
    check(Number.isSafeInteger(v) && v >= 0, key, 'a non-negative integer', v);
  check(Number.isSafeInteger(b.seed), 'seed', 'an integer', b.seed);
  const l = b.latency;
  for (const key of [
    'baseMs',
    'perNoteMs',
    'sigma',
    'tailMinMs',
    'tailMaxMs',
    'deepPageMsPerPage',
  ] as const) {
    nonNegative(`latency.${key}`, l[key]);
  }
  check(l.tailShare >= 0 && l.tailShare <= 1, 'latency.tailShare', 'a fraction from 0 to 1', l.tailShare);
  check(l.tailMinMs <= l.tailMaxMs, 'latency.tailMinMs', `≤ latency.tailMaxMs (${l.tailMaxMs})`, l.tailMinMs);
  check(typeof l.applyToFiles === 'boolean', 'latency.applyToFiles', 'true or false', l.applyToFiles);
  const r = b.rateLimit;
  check(
    Number.isSafeInteger(r.windowMs) && r.windowMs > 0,
    'rateLimit.windowMs',
    'a positive integer',
    r.windowMs,
  );
  count('rateLimit.windowLimit', r.windowLimit);
  count('rateLimit.perSecondLimit', r.perSecondLimit);
  check(typeof r.countRejected === 'boolean', 'rateLimit.countRejected', 'true or false', r.countRejected);
  check(/^[A-Za-z0-9_-]{1,64}$/.test(r.policyName), 'rateLimit.policyName', 'a short token', r.policyName);
  const c = b.concurrency;
  count('concurrency.servedAtOnce', c.servedAtOnce);
  count('concurrency.maxQueued', c.maxQueued);
  check([429, 503].includes(c.overflowStatus), 'concurrency.overflowStatus', '429 or 503', c.overflowStatus);
  return problems;
}

const SETTING_GROUPS = ['latency', 'rateLimit', 'concurrency'] as const;
type SettingGroup = (typeof SETTING_GROUPS)[number];
const isSettingGroup = (g: string | undefined): g is SettingGroup => SETTING_GROUPS.some((x) => x === g);

/**
 * Applies one `key=value` of the CLI's `--behaviour-set` (`latency.sigma=0.6`,
 * `rateLimit.windowLimit=100`, `seed=7`) to `options`; the key must name a field, the value must
 * have that field's type (number, true/false or a name). Ranges are checked by `resolveFakeCrmBehaviour`.
 */
export function applyFakeCrmBehaviourSetting(options: FakeCrmBehaviourOptions, setting: string): void {
  const m = /^([\w.]+)=(.*)$/.exec(setting);
  if (!m?.[1] || m[2] === undefined) {
    throw new ValidationError(`behaviour setting must be key=value, got ${JSON.stringify(setting)}`);
  }
  const [key, raw] = [m[1], m[2].trim()];
  if (key === 'seed') {
    options.seed = parseSettingNumber(key, raw);
    return;
  }
  const [group, field, ...rest] = key.split('.');
  // The realistic preset has every field, so its values tell each field's type.
  const template: Record<string, unknown> | undefined = isSettingGroup(group)
    ? { ...PRESETS.realistic[group] }
    : undefined;
  // Own fields only: `in` would accept inherited names (`constructor`, `__proto__`).
  if (!isSettingGroup(group) || !template || !field || rest.length > 0 || !Object.hasOwn(template, field)) {
    throw new ValidationError(
      `unknown behaviour setting ${JSON.stringify(key)}; known: seed, ${knownSettingKeys().join(', ')}`,
    );
  }
  const kind = typeof ownValue(template, field);
  const value =
    kind === 'boolean'
      ? parseSettingBoolean(key, raw)
      : kind === 'number'
        ? parseSettingNumber(key, raw)
        : raw;
  const overrides: Record<string, unknown> = (options[group] ??= {});
  setOwn(overrides, field, value);
}

/** Every `group.field` key `--behaviour-set` accepts, for help and error messages. */
export function knownSettingKeys(): string[] {
  return SETTING_GROUPS.flatMap((group) => Object.keys(PRESETS.realistic[group]).map((f) => `${group}.${f}`));
}

function parseSettingNumber(key: string, raw: string): number {
  const n = Number(raw);
  if (raw === '' || !Number.isFinite(n)) {
    throw new ValidationError(`behaviour setting ${key} must be a number, got ${JSON.stringify(raw)}`);
  }
  return n;
}

function parseSettingBoolean(key: string, raw: string): boolean {
  if (raw === 'true') return true;
  if (raw === 'false') return false;
  throw new ValidationError(`behaviour setting ${key} must be true or false, got ${JSON.stringify(raw)}`);
}
