import { MongoError, MongoServerError } from 'mongodb';
import { describe, expect, it } from 'vitest';

import {
  isDuplicateKeyError,
  isTransientMongoError,
  withTransientRetry,
} from '../../../src/db/mongo-errors.js';

function serverError(code: number, labels: string[] = []): MongoServerError {
  const e = new MongoServerError({ code, errmsg: `code ${code}`, errorLabels: labels });
  return e;
}

describe('mongo error translation', () => {
  it('recognises a duplicate key error and nothing else as "already written"', () => {
    expect(isDuplicateKeyError(serverError(11000))).toBe(true);
    expect(isDuplicateKeyError(serverError(121))).toBe(false);
    expect(isDuplicateKeyError(new Error('E11000 in a message only'))).toBe(false);
  });

  it('treats labelled and stepdown errors as transient, validation errors as permanent', () => {
    expect(isTransientMongoError(serverError(112, ['TransientTransactionError']))).toBe(true);
    expect(isTransientMongoError(serverError(10107))).toBe(true);
    expect(isTransientMongoError(serverError(121))).toBe(false);
    expect(isTransientMongoError(new MongoError('plain'))).toBe(false);
  });

  it('retries a transient error with capped, jittered backoff, then succeeds', async () => {
    const sleeps: number[] = [];
    let calls = 0;
    const value = await withTransientRetry(
      () => {
        calls++;
        if (calls < 3) return Promise.reject(serverError(189));
        return Promise.resolve('ok');
      },
      {
        sleep: (ms) => (sleeps.push(ms), Promise.resolve()),
        random: () => 1,
        baseDelayMs: 100,
        maxDelayMs: 150,
      },
    );
    expect(value).toBe('ok');
    expect(sleeps).toEqual([100, 150]);
  });

  it('does not retry a permanent error', async () => {
    let calls = 0;
    await expect(
      withTransientRetry(() => {
        calls++;
        return Promise.reject(serverError(121));
      }),
    ).rejects.toThrow('code 121');
    expect(calls).toBe(1);
  });

  it('gives up after the last attempt and rethrows the transient error', async () => {
    let calls = 0;
    await expect(
      withTransientRetry(
        () => {
          calls++;
          return Promise.reject(serverError(189));
        },
        { attempts: 3, sleep: () => Promise.resolve() },
      ),
    ).rejects.toThrow('code 189');
    expect(calls).toBe(3);
  });
});
