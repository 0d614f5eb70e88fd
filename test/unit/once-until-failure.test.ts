import { describe, expect, it } from 'vitest';

import { onceUntilFailure } from '../../src/once-until-failure.js';

describe('onceUntilFailure', () => {
  it('creates once and shares the result between concurrent and later callers', async () => {
    let created = 0;
    const get = onceUntilFailure(() => Promise.resolve(++created));
    expect(await Promise.all([get(), get(), get()])).toEqual([1, 1, 1]);
    expect(await get()).toBe(1);
    expect(created).toBe(1);
  });

  it('forgets a failed start, so the next call tries again instead of failing forever (#12)', async () => {
    let attempts = 0;
    const get = onceUntilFailure(() => {
      attempts++;
      return attempts === 1 ? Promise.reject(new Error('database not up yet')) : Promise.resolve('agenda');
    });
    await expect(get()).rejects.toThrow('database not up yet');
    expect(await get()).toBe('agenda');
    expect(await get()).toBe('agenda');
    expect(attempts).toBe(2);
  });
});
