/**
 * `contacts` (read only): CRM person id → CDP contact id, one indexed query per page.
 */
import type { Collection, Document } from 'mongodb';

import type { ContactDoc } from './documents.js';

export interface ContactsRepository {
  /** Map of CRM person id (string) → contact id, for the ids that have a contact in this company. */
  findContactIdsByCrmPersonIds(
    companySsoId: string,
    crmPersonIds: readonly string[],
  ): Promise<Map<string, string>>;
  /** The query plan of that lookup, for checking it uses `{company_sso_id, crm_data.id}`. */
  explainCrmPersonLookup(companySsoId: string, crmPersonIds: readonly string[]): Promise<Document>;
  exists(companySsoId: string, contactId: string): Promise<boolean>;
}

export function createContactsRepository(collection: Collection<ContactDoc>): ContactsRepository {
  const lookupFilter = (companySsoId: string, ids: readonly string[]) => ({
    company_sso_id: companySsoId,
    'crm_data.id': { $in: [...new Set(ids)] },
  });
  return {
    async findContactIdsByCrmPersonIds(companySsoId, crmPersonIds) {
      const found = new Map<string, string>();
      if (crmPersonIds.length === 0) return found;
      const cursor = collection.find(lookupFilter(companySsoId, crmPersonIds), {
        projection: { _id: 1, 'crm_data.id': 1 },
      });
      for await (const contact of cursor) {
        const personId = contact.crm_data?.id;
        // Two contacts for one person: keep the first deterministically (lowest _id wins below).
        if (
          personId !== undefined &&
          (!found.has(personId) || String(contact._id) < (found.get(personId) ?? ''))
        ) {
          found.set(personId, String(contact._id));
        }
      }
      return found;
    },

    explainCrmPersonLookup: (companySsoId, crmPersonIds) =>
      collection.find(lookupFilter(companySsoId, crmPersonIds)).explain('queryPlanner'),

    async exists(companySsoId, contactId) {
      return (
        (await collection.countDocuments({ _id: contactId, company_sso_id: companySsoId }, { limit: 1 })) > 0
      );
    },
  };
}
