import type { Context } from 'koa';
import { describe, expect, it } from 'vitest';

import { tryNormalizeOrigin } from '../../../src/http/csrf-guard.js';
import { isClientDisconnect } from '../../../src/http/disconnect-log.js';
import { tryFindPathProblem } from '../../../src/http/path-guard.js';

describe('path guard', () => {
  it.each([
    '/',
    '/private/notes/migration/status',
    '/private/dash/',
    '/v1/contacts/c-1:x@y/notes',
    '/private/%70rivate',
    '/private/dash/%252e%252e',
    '/a/b%20c',
  ])('lets %s through (routing decides)', (path) => {
    expect(tryFindPathProblem(path)).toBeNull();
  });

  it.each([
    ['/a/../b', 'a ".." segment'],
    ['/a/./b', 'a "." segment'],
    ['/a/%2e%2E/b', 'a ".." segment'],
    ['/a/%2E', 'a "." segment'],
    ['/a%2fb', 'an encoded separator or control character'],
    ['/a%5Cb', 'an encoded separator or control character'],
    ['/a%00', 'an encoded separator or control character'],
    ['/a%0d%0aSet-Cookie:x', 'an encoded separator or control character'],
    ['/a\\b', 'a backslash'],
    ['/a%', 'malformed percent-encoding'],
    ['/a%zz', 'malformed percent-encoding'],
    ['/a%c0%af', 'malformed percent-encoding'],
    ['/a%ed%a0%80', 'malformed percent-encoding'],
  ])('refuses %s: it contains %s', (path, problem) => {
    expect(tryFindPathProblem(path)).toBe(problem);
  });
});

describe('CSRF origin normalisation', () => {
  it.each([
    ['https://Ops.Example.COM', 'https://ops.example.com'],
    ['https://ops.example.com:443', 'https://ops.example.com'],
    ['http://127.0.0.1:8080', 'http://127.0.0.1:8080'],
    ['http://[::1]:80', 'http://[::1]'],
  ])('reads %s as %s', (value, origin) => {
    expect(tryNormalizeOrigin(value)).toBe(origin);
  });

  it.each(['null', '', 'evil', 'file:///etc/passwd', 'chrome-extension://abc', 'data:text/html,x'])(
    'reads %j as no http(s) origin at all',
    (value) => {
      expect(tryNormalizeOrigin(value)).toBeNull();
    },
  );
});

describe('client disconnect classification', () => {
  const ctx = (writableFinished: boolean) => ({ res: { writableFinished } }) as unknown as Context;
  const withCode = (code: string) => Object.assign(new Error(code), { code });

  it.each(['ERR_STREAM_PREMATURE_CLOSE', 'ECONNRESET', 'EPIPE', 'ECONNABORTED'])(
    'counts %s on an unfinished answer as the client leaving',
    (code) => {
      expect(isClientDisconnect(withCode(code), ctx(false))).toBe(true);
    },
  );

  it('counts a request the client aborted as leaving', () => {
    expect(isClientDisconnect(new Error('aborted'), ctx(false))).toBe(true);
  });

  it('keeps our own faults, and anything after a complete answer, as errors', () => {
    expect(isClientDisconnect(new Error('Cannot read properties of undefined'), ctx(false))).toBe(false);
    expect(isClientDisconnect(withCode('ERR_STREAM_WRITE_AFTER_END'), ctx(false))).toBe(false);
    expect(isClientDisconnect(withCode('ECONNRESET'), ctx(true))).toBe(false);
  });
});
