import { describe, expect, it } from 'vitest';

import { FAKE_TENANT_MIXES, resolveFakeTenant } from '../../../../src/crm/fake/fake-tenant-options.js';

describe('fake tenant options', () => {
  it('applies the preset and lets one share be overridden, down to 0', () => {
    const tenant = resolveFakeTenant({
      cid: '1',
      companySsoId: 'co',
      noteCount: 10,
      mix: { outOfScopeShare: 0 },
    });
    expect(tenant.mix).toEqual({ ...FAKE_TENANT_MIXES.realistic, outOfScopeShare: 0 });
    expect(tenant.inScopeNoteTypeIds).toEqual([1, 6]);
    expect(tenant.outOfScopeNoteTypeIds.some((t) => t === 1 || t === 6)).toBe(false);
  });

  it('lists every bad option in one error', () => {
    expect(() =>
      resolveFakeTenant({
        cid: '',
        companySsoId: 'co',
        noteCount: -1,
        seed: 1.5,
        mix: { malformedShare: 2, outOfScopeShare: 0.9, noPersonShare: 0.5 },
      }),
    ).toThrow(
      /mix\.malformedShare must be a fraction.*must not exceed 1.*cid must be.*noteCount must be.*seed must be/,
    );
  });

  it('derives different note id ranges for different CIDs', () => {
    const a = resolveFakeTenant({ cid: '1001', companySsoId: 'a', noteCount: 1 });
    const b = resolveFakeTenant({ cid: '1002', companySsoId: 'b', noteCount: 1 });
    expect(a.firstNoteId).not.toBe(b.firstNoteId);
  });
});
