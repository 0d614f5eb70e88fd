import { describe, expect, it } from 'vitest';

import { parseCrmNote } from '../../../../src/crm/crm-payload.js';
import { fakeCdpUsers } from '../../../../src/crm/fake/cdp-seed.js';
import { createFakeNoteGenerator } from '../../../../src/crm/fake/fake-note-generator.js';
import { ORDINARY_NOTE_MAX_CHARS } from '../../../../src/crm/fake/fake-note-html.js';
import { fakeNotesPageChunks } from '../../../../src/crm/fake/fake-notes-page.js';
import { type FakeTenantOptions, resolveFakeTenant } from '../../../../src/crm/fake/fake-tenant-options.js';
import { sanitizeLikeDesign } from '../../../helpers/fake-crm-scan.js';

const URL_ = 'http://fake-crm.test';
const options: FakeTenantOptions = {
  cid: '77',
  companySsoId: 'co-77',
  noteCount: 1200,
  seed: 5,
  preset: 'messy',
};
const pageText = (o: FakeTenantOptions, page: number, perPage: number) =>
  [...fakeNotesPageChunks(createFakeNoteGenerator(resolveFakeTenant(o), URL_), page, perPage)].join('');

describe('fake note generator', () => {
  it('gives byte-identical pages for the same seed', () => {
    expect(pageText(options, 2, 500)).toBe(pageText(options, 2, 500));
  });

  it('gives different notes for a different seed', () => {
    expect(pageText({ ...options, seed: 6 }, 1, 50)).not.toBe(pageText(options, 1, 50));
  });

  it('builds note i without building the notes before it', () => {
    const tenant = resolveFakeTenant(options);
    const inOrder = createFakeNoteGenerator(tenant, URL_);
    for (let i = 0; i < 1000; i++) inOrder.note(i);
    const straightThere = createFakeNoteGenerator(tenant, URL_);
    expect(JSON.stringify(straightThere.note(999))).toBe(JSON.stringify(inOrder.note(999)));
  });

  it('writes a valid envelope whose notes are numbered in order', () => {
    const body = JSON.parse(pageText(options, 3, 500)) as { data: Array<{ id: number }>; meta: unknown };
    expect(body.meta).toEqual({ page: 3, per_page: 500, total: 1200, total_pages: 3 });
    expect(body.data).toHaveLength(200);
    const first = resolveFakeTenant(options).firstNoteId + 1000;
    expect(body.data.map((n) => n.id)).toEqual(Array.from({ length: 200 }, (_, i) => first + i));
    expect(JSON.parse(pageText(options, 9, 500))).toMatchObject({ data: [], meta: { page: 9 } });
  });

  it('plants HTML that sanitizes to the planted outcome, never borderline', () => {
    const tenant = resolveFakeTenant(options);
    const generator = createFakeNoteGenerator(tenant, URL_);
    const seen = new Set<string>();
    for (let i = 0; i < tenant.noteCount; i++) {
      const t = generator.traits(i);
      const raw = generator.note(i);
      if (t.category === 'malformed') continue;
      const html = String(raw.note);
      const clean = sanitizeLikeDesign(html);
      if (t.category === 'too_long') expect(clean.length).toBeGreaterThan(12_000);
      else if (t.scriptOnlyBody) expect(clean.trim()).toBe('');
      else {
        expect(html.length).toBeLessThan(ORDINARY_NOTE_MAX_CHARS);
        expect(clean.replace(/<[^>]+>/g, '').trim().length).toBeGreaterThan(10);
      }
      if (/<a data-user-id="\d+">@[^<]+<\/a>/.test(html)) seen.add('data-user-id mention');
      if (/<a href="https:\/\/crm\.example\/users\/\d+\/edit_user">@/.test(html))
        seen.add('edit_user mention');
      if (/onerror=|javascript:|<script>alert\('xss'\)/.test(html) && !t.scriptOnlyBody) seen.add('xss junk');
      if (/<(b|i|ul|blockquote|h3)>/.test(html)) seen.add('formatting');
    }
    expect([...seen].sort()).toEqual(['data-user-id mention', 'edit_user mention', 'formatting', 'xss junk']);
  });

  it('sends e-mail-only creators in a different case than SSO stores them', () => {
    const tenant = resolveFakeTenant(options);
    const generator = createFakeNoteGenerator(tenant, URL_);
    const ssoEmails = new Set([...fakeCdpUsers(tenant)].filter((u) => !u.crm_user_id).map((u) => u.email));
    let checked = 0;
    for (let i = 0; i < 400; i++) {
      if (generator.traits(i).owner !== 'email') continue;
      const email = String(generator.note(i).creator_email);
      expect(email).not.toBe(email.toLowerCase());
      expect(ssoEmails.has(email.toLowerCase())).toBe(true);
      checked++;
    }
    expect(checked).toBeGreaterThan(0);
  });

  it('keeps the id of a malformed note readable', () => {
    const tenant = resolveFakeTenant({ ...options, mix: { malformedShare: 0.05 } });
    const generator = createFakeNoteGenerator(tenant, URL_);
    const kinds = new Set<string>();
    for (let i = 0; i < tenant.noteCount; i++) {
      const t = generator.traits(i);
      if (t.category !== 'malformed') continue;
      kinds.add(String(t.malformation));
      expect(parseCrmNote(generator.note(i))).toMatchObject({ ok: false, legacyCrmNoteId: String(t.id) });
    }
    expect(kinds.size).toBe(5);
  });
});
