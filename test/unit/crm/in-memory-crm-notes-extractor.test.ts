import { describe, expect, it } from 'vitest';

import { parseCrmNote } from '../../../src/crm/crm-payload.js';
import { createInMemoryCrmNotesExtractor } from '../../../src/crm/in-memory-crm-notes-extractor.js';
import { UpstreamError } from '../../../src/errors.js';
import { makeCrmNotePayload } from '../../fixtures/crm-notes.js';

const notes = Array.from({ length: 5 }, (_, i) => parseCrmNote(makeCrmNotePayload({ id: i + 1 })));

describe('in-memory CRM notes extractor', () => {
  it('pages through the notes it holds', async () => {
    const crm = createInMemoryCrmNotesExtractor({ tenants: { '42': notes } });
    const page2 = await crm.listPersonNotes('42', 2, 2);
    expect(page2).toMatchObject({ page: 2, perPage: 2, total: 5, totalPages: 3 });
    expect(page2.notes.map((n) => n.ok && n.note.id)).toEqual(['3', '4']);
    expect(await crm.probeOrganization('42')).toEqual({ total: 5 });
    expect(crm.calls).toEqual([{ cid: '42', page: 2, perPage: 2 }]);
  });

  it('answers CID_NOT_FOUND for an unknown CID and fails the calls it is told to', async () => {
    const crm = createInMemoryCrmNotesExtractor({
      tenants: { '42': notes },
      failCall: ({ page }) => (page === 3 ? new UpstreamError('CRM_EXTRACT_FAILED', 'down') : undefined),
    });
    await expect(crm.probeOrganization('7')).rejects.toMatchObject({ code: 'CID_NOT_FOUND' });
    await expect(crm.listPersonNotes('42', 3, 2)).rejects.toMatchObject({ code: 'CRM_EXTRACT_FAILED' });
  });
});
