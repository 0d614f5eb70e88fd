import { describe, expect, it } from 'vitest';

import { credentialsMatch, tryParseBasicAuthorization } from '../../../src/http/basic-auth.js';

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');

describe('basic auth parsing', () => {
  it('reads user and password, keeping colons in the password', () => {
    expect(tryParseBasicAuthorization(`Basic ${b64('ops:pa:ss')}`)).toEqual({
      username: 'ops',
      password: 'pa:ss',
    });
    expect(tryParseBasicAuthorization(`basic ${b64('ops:')}`)).toEqual({ username: 'ops', password: '' });
  });

  it('returns null for other schemes, missing colons and garbage', () => {
    for (const header of [undefined, '', 'Bearer abc', `Basic ${b64('nocolon')}`, 'Basic ***', 'Basic']) {
      expect(tryParseBasicAuthorization(header)).toBeNull();
    }
  });
});

describe('credential comparison', () => {
  const expected = { username: 'ops', password: 'secret' };

  it('accepts only an exact match of both fields', () => {
    expect(credentialsMatch({ username: 'ops', password: 'secret' }, expected)).toBe(true);
    expect(credentialsMatch({ username: 'ops', password: 'secreT' }, expected)).toBe(false);
    expect(credentialsMatch({ username: 'op', password: 'secret' }, expected)).toBe(false);
    expect(credentialsMatch({ username: 'ops', password: 'secret-and-longer' }, expected)).toBe(false);
    expect(credentialsMatch({ username: '', password: '' }, expected)).toBe(false);
  });

  it('compares unicode credentials byte-exactly', () => {
    expect(
      credentialsMatch({ username: 'öps', password: 'пароль' }, { username: 'öps', password: 'пароль' }),
    ).toBe(true);
    expect(
      credentialsMatch({ username: 'ops', password: 'pa\u0301' }, { username: 'ops', password: 'pá' }),
    ).toBe(false);
  });
});
