/**
 * CRM note → CDP contact, one indexed query per page (breakdown Task 2.1). The person id wins
 * even when company, deal or ticket ids are also set: a person note belongs to its person.
 */
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
}): ContactResolver {
  return {
    async resolve(companySsoId, notes) {
      const personIds = notes.map((n) => n.crmPersonId).filter((id): id is string => id !== null);
      const contactByPerson = await deps.contacts.findContactIdsByCrmPersonIds(companySsoId, personIds);
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
