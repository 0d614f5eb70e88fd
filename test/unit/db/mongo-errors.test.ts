import { MongoError, MongoServerError } from 'mongodb';
import { describe, expect, it } from 'vitest';

import { isDuplicateKeyError, isTransientMongoError } from '../../../src/db/mongo-errors.js';

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
});
