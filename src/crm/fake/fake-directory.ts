/**
 * The people of a fake tenant: CRM creators (and which of them SSO knows, by CRM id or by e-mail
 * only) and CRM persons (which of them CDP has contacts for). Shared by the note generator and
 * the CDP seed, so what a note says about its creator matches what `users` holds.
 */
import { base, en, Faker } from '@faker-js/faker';

import { creatorIdFor, type OwnerKind, ownerKindOf } from './fake-note-traits.js';
import type { FakeTenant } from './fake-tenant-options.js';
import { createFakerRandomizer, mixSeed } from './seeded-random.js';

export interface FakeCreator {
  id: number;
  kind: OwnerKind;
  /** What CRM sends as `creator_name`; null for anonymous creators. */
  name: string | null;
  /** What CRM sends as `creator_email` (mixed case for e-mail-only users); null when none. */
  crmEmail: string | null;
  /** The SSO user's e-mail (lower case); null when SSO does not know the creator. */
  ssoEmail: string | null;
}

export interface FakeDirectory {
  creator(creatorId: number): FakeCreator;
  /** A creator SSO knows by CRM id, for mention anchors. */
  mentionable(u: number): FakeCreator;
  personName(personId: number): string;
}

const SALT_PEOPLE = 0x9e0b;

export function createFakeDirectory(tenant: FakeTenant): FakeDirectory {
  const faker = new Faker({ locale: [en, base], randomizer: createFakerRandomizer() });
  const domain = `${
    tenant.companySsoId
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-|-$/g, '') || 'tenant'
  }.example.com`;
  // Bounded by the user pools (tens to thousands), never by the note count.
  const creators = new Map<number, FakeCreator>();

  function creator(id: number): FakeCreator {
    const cached = creators.get(id);
    if (cached) return cached;
    faker.seed(mixSeed(tenant.seed, SALT_PEOPLE, id));
    const kind = ownerKindOf(tenant, id);
    const first = faker.person.firstName();
    const last = faker.person.lastName();
    const local = `${first}.${last}.${id}`.toLowerCase().replace(/[^a-z0-9.]+/g, '');
    const ssoEmail = `${local}@${domain}`;
    let made: FakeCreator;
    switch (kind) {
      case 'crm_user_id':
        made = { id, kind, name: `${first} ${last}`, crmEmail: ssoEmail, ssoEmail };
        break;
      case 'email':
        // Same address, different case: SSO must match it case-insensitively.
        made = { id, kind, name: `${first} ${last}`, crmEmail: shoutCase(ssoEmail), ssoEmail };
        break;
      case 'unmapped_named':
        made = {
          id,
          kind,
          name: `${first} ${last}`,
          crmEmail: `${local}@former-staff.example.org`,
          ssoEmail: null,
        };
        break;
      case 'unmapped_anonymous':
        made = { id, kind, name: null, crmEmail: null, ssoEmail: null };
        break;
    }
    creators.set(id, made);
    return made;
  }

  return {
    creator,
    mentionable: (u) => creator(creatorIdFor(tenant, 'crm_user_id', u)),
    personName(personId) {
      faker.seed(mixSeed(tenant.seed, SALT_PEOPLE, personId, 1));
      return faker.person.fullName();
    },
  };
}

/** `ada.lovelace.7@acme.example.com` → `Ada.Lovelace.7@ACME.EXAMPLE.COM`. */
function shoutCase(email: string): string {
  const [local = '', host = ''] = email.split('@');
  const title = local.replace(/(^|\.)([a-z])/g, (_m, dot: string, c: string) => dot + c.toUpperCase());
  return `${title}@${host.toUpperCase()}`;
}
