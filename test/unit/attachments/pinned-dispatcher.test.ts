import type { LookupAddress } from 'node:dns';

import { describe, expect, it } from 'vitest';

import { createPinnedLookup } from '../../../src/attachments/pinned-dispatcher.js';

function ask(
  lookup: ReturnType<typeof createPinnedLookup>,
  hostname: string,
  options: { all?: boolean; family?: number } = {},
): Promise<{ error: Error | null; result: unknown }> {
  return new Promise((resolve) => {
    lookup(hostname, options, (error: Error | null, address: string | LookupAddress[], family?: number) =>
      resolve({ error, result: Array.isArray(address) ? address : { address, family } }),
    );
  });
}

describe('pinned lookup', () => {
  const lookup = createPinnedLookup('files.example', ['93.184.216.34', '2606:4700::1']);

  it('answers the vetted host with the vetted addresses only', async () => {
    expect(await ask(lookup, 'files.example')).toEqual({
      error: null,
      result: { address: '93.184.216.34', family: 4 },
    });
    expect(await ask(lookup, 'FILES.example.', { all: true })).toEqual({
      error: null,
      result: [
        { address: '93.184.216.34', family: 4 },
        { address: '2606:4700::1', family: 6 },
      ],
    });
    expect(await ask(lookup, 'files.example', { family: 6 })).toEqual({
      error: null,
      result: { address: '2606:4700::1', family: 6 },
    });
  });

  it('refuses any other host name', async () => {
    const { error } = await ask(lookup, 'internal.example');
    expect(error?.message).toMatch(/not the vetted host/);
  });
});
