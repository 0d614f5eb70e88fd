/**
 * `users` (read only): the SSO user directory. Owner resolution looks users up by CRM user id,
 * then by e-mail (case-insensitive through the index's collation); the read path by SSO id.
 */
import type { CollationOptions, Collection } from 'mongodb';

import type { UserDoc } from './documents.js';

/** Must equal the collation of the `ix_users_company_email` index, or the index is not used. */
export const EMAIL_COLLATION: CollationOptions = { locale: 'en', strength: 2 };

export interface UsersRepository {
  findByCrmUserIds(companySsoId: string, crmUserIds: readonly string[]): Promise<UserDoc[]>;
  findByEmails(companySsoId: string, emails: readonly string[]): Promise<UserDoc[]>;
  findBySsoIds(ssoIds: readonly string[]): Promise<UserDoc[]>;
}

export function createUsersRepository(collection: Collection<UserDoc>): UsersRepository {
  return {
    async findByCrmUserIds(companySsoId, crmUserIds) {
      if (crmUserIds.length === 0) return [];
      return collection
        .find({ company_sso_id: companySsoId, crm_user_id: { $in: [...new Set(crmUserIds)] } })
        .toArray();
    },
    async findByEmails(companySsoId, emails) {
      if (emails.length === 0) return [];
      return collection
        .find(
          { company_sso_id: companySsoId, email: { $in: [...new Set(emails.map((e) => e.trim()))] } },
          { collation: EMAIL_COLLATION },
        )
        .toArray();
    },
    async findBySsoIds(ssoIds) {
      if (ssoIds.length === 0) return [];
      return collection.find({ sso_id: { $in: [...new Set(ssoIds)] } }).toArray();
    },
  };
}
