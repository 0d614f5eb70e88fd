import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';

import { ValidationError } from '../../../src/errors.js';
import { cidSchema, limitSchema, parseInput } from '../../../src/http/parse-input.js';

const Body = z.strictObject({ cid: cidSchema });

describe('cid input', () => {
  it('accepts every positive safe integer, as a number or its decimal string', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }), (n) => {
        expect(parseInput(Body, { cid: n }, 'body')).toEqual({ cid: String(n) });
        expect(parseInput(Body, { cid: String(n) }, 'body')).toEqual({ cid: String(n) });
      }),
    );
  });

  it('refuses any string with a character that is not an ASCII digit', () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 1, maxLength: 20, unit: 'grapheme' }).filter((s) => !/^[1-9][0-9]*$/.test(s)),
        (s) => {
          expect(() => parseInput(Body, { cid: s }, 'body')).toThrow(ValidationError);
        },
      ),
    );
  });

  it('refuses objects, arrays and operators, naming the value in the message', () => {
    for (const cid of [{ $ne: null }, ['1'], null, true, 0, -3, 2.5, 2 ** 60]) {
      let error: unknown;
      try {
        parseInput(Body, { cid }, 'body');
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(ValidationError);
      expect((error as ValidationError).message).toContain('cid must be a positive integer');
      expect((error as ValidationError).details).toMatchObject({
        location: 'body',
        issues: [{ path: ['cid'] }],
      });
    }
  });
});

describe('limit input', () => {
  const Query = z.strictObject({ limit: limitSchema(20, 100) });

  it('defaults when absent and enforces the ceiling', () => {
    expect(parseInput(Query, {}, 'query')).toEqual({ limit: 20 });
    expect(parseInput(Query, { limit: '100' }, 'query')).toEqual({ limit: 100 });
    for (const limit of ['0', '101', '-1', '1.5', 'ten', ['5', '6']]) {
      expect(() => parseInput(Query, { limit }, 'query')).toThrow(/limit must be an integer from 1 to 100/);
    }
  });
});
