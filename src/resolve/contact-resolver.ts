/**
 * CRM note → CDP contact, one indexed query per page (breakdown Task 2.1). The person id wins
 * even when company, deal or ticket ids are also set: a person note belongs to its person.
 * A contact usually has many notes, so found mappings are remembered (bounded, with a TTL): later
 * pages ask the database only for persons not seen yet. Misses are not remembered, so a contact
 * added to CDP (e.g. after a halt for CONTACT_NOT_MAPPED) is found by the next run.
 */
import { LRUCache } from 'lru-cache';

import type { CrmNote } from '../crm/crm-note.js';
import type { ContactsRepository } from '../db/contacts-repository.js';
import type { StepResult } from '../domain.js';

export type ContactResolution = StepResult<string, 'CONTACT_NOT_MAPPED'>;

export interface ContactResolver {
  /** One result per note id. */
  resolve(companySsoId: string, notes: readonly CrmNote[]): Promise<Map<string, ContactResolution>>;
}

export function createContactResolver(deps: {
  contacts: Pick<ContactsRepository, 'findContactIdsByCrmPersonIds'>;
  /** `max: 0` (the default) asks the database for every page's persons. */
  cache?: { max: number; ttlMs: number };
}): ContactResolver {
  const cache =
    deps.cache && deps.cache.max > 0
      ? new LRUCache<string, string>({ max: deps.cache.max, ttl: deps.cache.ttlMs })
      : null;
  const key = (companySsoId: string, personId: string) => `${companySsoId}\u0000${personId}`;

  async function contactsByPerson(companySsoId: string, personIds: readonly string[]) {
    const known = new Map<string, string>();
    const unknown = new Set<string>();
    for (const personId of personIds) {
      const hit = cache?.get(key(companySsoId, personId));
      if (hit === undefined) unknown.add(personId);
      else known.set(personId, hit);
    }
    if (unknown.size === 0) return known;
    const found = await deps.contacts.findContactIdsByCrmPersonIds(companySsoId, [...unknown]);
    for (const [personId, contactId] of found) {
      known.set(personId, contactId);
      cache?.set(key(companySsoId, personId), contactId);
    }
    return known;
  }

  return {
    async resolve(companySsoId, notes) {
      const personIds = notes.map((n) => n.crmPersonId).filter((id): id is string => id !== null);
      const contactByPerson = await contactsByPerson(companySsoId, personIds);
      const out = new Map<string, ContactResolution>();
      for (const note of notes) {
        if (note.crmPersonId === null) {
          out.set(note.id, {
            ok: false,
            reasonCode: 'CONTACT_NOT_MAPPED',
            details: { reason: 'note has no crm_person_id', ...otherLinks(note) },
          });
          continue;
        }
        const contactId = contactByPerson.get(note.crmPersonId);
        out.set(
          note.id,
          contactId === undefined
            ? {
                ok: false,
                reasonCode: 'CONTACT_NOT_MAPPED',
                details: { reason: 'no CDP contact with this crm_data.id', crm_person_id: note.crmPersonId },
              }
            : { ok: true, value: contactId },
        );
      }
      return out;
    },
  };
}

/** What else the note points at, so an analyst can see why it had no person. */
function otherLinks(note: CrmNote): Record<string, string> {
  const links: Record<string, string> = {};
  if (note.crmCompanyId !== null) links.crm_company_id = note.crmCompanyId;
  if (note.crmDealId !== null) links.crm_deal_id = note.crmDealId;
  if (note.crmTicketId !== null) links.crm_ticket_id = note.crmTicketId;
  return links;
}
