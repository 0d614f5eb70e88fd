/** `contacts` and `users`: the lookups contact and owner resolution make once per page. */
import type { IndexMigration } from '../src/db/index-migrations.js';
import { EMAIL_COLLATION } from '../src/db/users-repository.js';

export const contactsUsersIndexes: IndexMigration = {
  id: '002-contacts-users-indexes',
  description: 'contacts (company_sso_id, crm_data.id); users by crm_user_id, case-insensitive email, sso_id',
  indexes: [
    {
      collection: 'contacts',
      name: 'ix_contacts_company_crm_id',
      key: { company_sso_id: 1, 'crm_data.id': 1 },
    },
    { collection: 'users', name: 'ix_users_company_crm_user_id', key: { company_sso_id: 1, crm_user_id: 1 } },
    {
      collection: 'users',
      name: 'ix_users_company_email',
      key: { company_sso_id: 1, email: 1 },
      // Case-insensitive: owner resolution matches CRM e-mails whatever their case.
      options: { collation: EMAIL_COLLATION },
    },
    { collection: 'users', name: 'ix_users_sso_id', key: { sso_id: 1 } },
  ],
};
