/**
 * Request input → typed values through zod, or a 400 `VALIDATION_ERROR` carrying the zod issues.
 * Holds the field schemas every route shares (CID, company id, paging), so a CID means the same
 * thing on every route. Nothing here touches the database: input is judged before any query.
 */
import { z } from 'zod';

import { ValidationError } from '../errors.js';

/**
 * A CID: CRM organisation ids are positive integers. Accepted as a JSON number (safe integer) or
 * a string of 1–19 ASCII digits without a leading zero; always a string afterwards. Objects
 * (`{"$ne":null}`), arrays, signs, spaces, non-ASCII digits and leading zeros are refused.
 */
export const CID_PATTERN = /^[1-9][0-9]{0,18}$/;

/** A run id: UUIDs today; any id of 1–64 characters of `A-Z a-z 0-9 _ -` is accepted. */
export const RUN_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

/** An SSO company id: 1–128 characters of `A-Z a-z 0-9 . _ : @ -`, starting alphanumeric. */
export const COMPANY_SSO_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}$/;

export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  let text: string;
  try {
    text = JSON.stringify(value) ?? typeof value;
  } catch {
    text = `[unserializable ${typeof value}]`;
  }
  return text.length > 80 ? `${text.slice(0, 80)}…` : text;
}

export const cidSchema = z.unknown().transform((value, ctx): string => {
  if (typeof value === 'string' && CID_PATTERN.test(value)) return value;
  if (typeof value === 'number' && Number.isSafeInteger(value) && value > 0) return String(value);
  ctx.addIssue({
    code: 'custom',
    message: `cid must be a positive integer or a string of ASCII digits without a leading zero, got ${describeValue(value)}`,
  });
  return z.NEVER;
});

export const companySsoIdSchema = z.unknown().transform((value, ctx): string => {
  if (typeof value === 'string' && COMPANY_SSO_ID_PATTERN.test(value)) return value;
  ctx.addIssue({
    code: 'custom',
    message: `company_sso_id must be 1-128 characters of A-Z a-z 0-9 . _ : @ - (starting with a letter or digit), got ${describeValue(value)}`,
  });
  return z.NEVER;
});

export const runIdSchema = z.unknown().transform((value, ctx): string => {
  if (typeof value === 'string' && RUN_ID_PATTERN.test(value)) return value;
  ctx.addIssue({
    code: 'custom',
    message: `run_id must be 1-64 characters of A-Z a-z 0-9 _ -, got ${describeValue(value)}`,
  });
  return z.NEVER;
});

/** A positive integer query parameter with a default and a ceiling. */
export function limitSchema(defaultLimit: number, maxLimit: number) {
  // `.optional()` before the transform: zod 4 then runs the transform for an absent key too.
  return z
    .unknown()
    .optional()
    .transform((value, ctx): number => {
      if (value === undefined) return defaultLimit;
      const n = typeof value === 'string' && /^[0-9]{1,7}$/.test(value) ? Number(value) : Number.NaN;
      if (!Number.isInteger(n) || n < 1 || n > maxLimit) {
        ctx.addIssue({
          code: 'custom',
          message: `limit must be an integer from 1 to ${maxLimit}, got ${describeValue(value)}`,
        });
        return z.NEVER;
      }
      return n;
    });
}

/** One of a fixed set of strings, optional. */
export function optionalEnumSchema<const T extends readonly string[]>(name: string, values: T) {
  return (
    z
      .unknown()
      .transform((value, ctx): T[number] | undefined => {
        if (value === undefined) return undefined;
        if (typeof value === 'string' && values.includes(value)) return value;
        ctx.addIssue({
          code: 'custom',
          message: `${name} must be one of ${values.join(', ')}, got ${describeValue(value)}`,
        });
        return z.NEVER;
      })
      // An absent key is fine (zod 4 otherwise wants a value for a key whose output may be undefined).
      .optional()
  );
}

/** An optional JSON boolean: `true`/`false` only — not `"true"`, `1` or `null`. */
export function optionalBooleanSchema(name: string) {
  return z
    .unknown()
    .transform((value, ctx): boolean | undefined => {
      if (value === undefined || typeof value === 'boolean') return value;
      ctx.addIssue({ code: 'custom', message: `${name} must be true or false, got ${describeValue(value)}` });
      return z.NEVER;
    })
    .optional();
}

/** An optional single string matching a pattern. */
export function optionalPatternSchema(name: string, pattern: RegExp, what: string) {
  return z
    .unknown()
    .transform((value, ctx): string | undefined => {
      if (value === undefined) return undefined;
      if (typeof value === 'string' && pattern.test(value)) return value;
      ctx.addIssue({ code: 'custom', message: `${name} must be ${what}, got ${describeValue(value)}` });
      return z.NEVER;
    })
    .optional();
}

export type InputLocation = 'body' | 'query' | 'path' | 'header';

/** Parses `input` or throws `ValidationError` (400) with every zod issue in `details.issues`. */
export function parseInput<S extends z.ZodType>(
  schema: S,
  input: unknown,
  where: InputLocation,
): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issues = result.error.issues.map((issue) => ({ ...issue, path: issue.path.map(String) }));
  const summary = issues
    .map((i) =>
      i.path.length > 0 && !i.message.startsWith(String(i.path[0]))
        ? `${i.path.join('.')}: ${i.message}`
        : i.message,
    )
    .join('; ');
  throw new ValidationError(`Invalid request ${where}: ${summary}`, { location: where, issues });
}
