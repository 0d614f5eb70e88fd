/**
 * The CDP side of a fake tenant: the `contacts` its persons map to and the `users` its creators
 * resolve to, so a migration can run end to end. Fake tooling only: the service's repositories
 * keep `contacts` and `users` read-only, so the writes live here rather than in `db/`.
 * Idempotent: documents have deterministic `_id`s and are upserted, so seeding twice changes nothing.
 */
import type { BulkWriteResult, Db } from 'mongodb';

import { COLLECTIONS, type ContactDoc, type UserDoc } from '../../db/documents.js';
import { createFakeDirectory } from './fake-directory.js';
import { creatorIdFor } from './fake-note-traits.js';
import type { FakeTenant } from './fake-tenant-options.js';

/** Persons CDP has contacts for; the ghost persons right after the pool are deliberately absent. */
export function* fakeCdpContacts(tenant: FakeTenant): Generator<ContactDoc> {
  const directory = createFakeDirectory(tenant);
  for (let k = 0; k < tenant.personPoolSize; k++) {
    const personId = tenant.personIdBase + k;
    yield {
      _id: fakeContactId(tenant, personId),
      company_sso_id: tenant.companySsoId,
      name: directory.personName(personId),
      crm_data: { id: String(personId) },
    };
  }
}

export function fakeContactId(tenant: FakeTenant, personId: number): string {
  return `ct-${tenant.cid}-${personId}`;
}

/** SSO users: those linked by `crm_user_id`, then those CDP knows by e-mail only. */
export function* fakeCdpUsers(tenant: FakeTenant): Generator<UserDoc> {
  const directory = createFakeDirectory(tenant);
  const total = tenant.userPoolSize + tenant.emailOnlyUserPoolSize;
  for (let k = 0; k < total; k++) {
    const byId = k < tenant.userPoolSize;
    const creatorId = byId
      ? creatorIdFor(tenant, 'crm_user_id', k / tenant.userPoolSize)
      : creatorIdFor(tenant, 'email', (k - tenant.userPoolSize) / tenant.emailOnlyUserPoolSize);
    const creator = directory.creator(creatorId);
    const user: UserDoc = {
      _id: `usr-${tenant.cid}-${creatorId}`,
      sso_id: `sso-${tenant.cid}-${creatorId}`,
      company_sso_id: tenant.companySsoId,
      name: creator.name ?? '',
      email: creator.ssoEmail ?? '',
    };
    if (byId) user.crm_user_id = String(creatorId);
    yield user;
  }
}

export interface SeedCdpResult {
  contacts: { upserted: number; matched: number };
  users: { upserted: number; matched: number };
}

export interface SeedCdpOptions {
  /** Documents per `bulkWrite`. Default 1,000. */
  batchSize?: number;
}

/** Writes the tenant's contacts and users; a second call upserts nothing new. */
export async function seedCdp(
  db: Db,
  tenant: FakeTenant,
  options: SeedCdpOptions = {},
): Promise<SeedCdpResult> {
  const batchSize = options.batchSize ?? 1_000;
  const contacts = db.collection<ContactDoc>(COLLECTIONS.contacts);
  const users = db.collection<UserDoc>(COLLECTIONS.users);
  // replaceOne+upsert rather than insertMany: idempotent, and a re-seed after a generator change
  // brings documents up to date instead of failing on duplicate keys.
  return {
    contacts: await inBatches(fakeCdpContacts(tenant), batchSize, (batch) =>
      contacts.bulkWrite(
        batch.map((doc) => ({ replaceOne: { filter: { _id: doc._id }, replacement: doc, upsert: true } })),
        { ordered: false },
      ),
    ),
    users: await inBatches(fakeCdpUsers(tenant), batchSize, (batch) =>
      users.bulkWrite(
        batch.map((doc) => ({ replaceOne: { filter: { _id: doc._id }, replacement: doc, upsert: true } })),
        { ordered: false },
      ),
    ),
  };
}

async function inBatches<T>(
  docs: Iterable<T>,
  batchSize: number,
  write: (batch: T[]) => Promise<BulkWriteResult>,
): Promise<{ upserted: number; matched: number }> {
  const totals = { upserted: 0, matched: 0 };
  let batch: T[] = [];
  const flush = async () => {
    if (batch.length === 0) return;
    const result = await write(batch);
    totals.upserted += result.upsertedCount;
    totals.matched += result.matchedCount;
    batch = [];
  };
  for (const doc of docs) {
    batch.push(doc);
    if (batch.length >= batchSize) await flush();
  }
  await flush();
  return totals;
}
