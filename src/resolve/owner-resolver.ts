/**
 * CRM creator → SSO user (breakdown Task 2.1): by CRM user id first, then by e-mail
 * (case-insensitive), one query each per page. An unmapped creator never blocks the note: it
 * keeps a readable `legacy_owner_label` and the run records an OWNER_NOT_MAPPED warning.
 */
import type { CrmNote } from '../crm/crm-note.js';
import type { UsersRepository } from '../db/users-repository.js';
import { UNKNOWN_OWNER_LABEL } from '../domain.js';

export type OwnerResolution =
  /** `via`: which lookup found the user (a forecast reports owner coverage by it). */
  | { mapped: true; ownerId: string; via: 'crm_user_id' | 'email' }
  | { mapped: false; ownerId: null; legacyOwnerLabel: string; details: Record<string, unknown> };

export interface OwnerResolver {
  resolve(companySsoId: string, notes: readonly CrmNote[]): Promise<Map<string, OwnerResolution>>;
}

export function createOwnerResolver(deps: {
  users: Pick<UsersRepository, 'findByCrmUserIds' | 'findByEmails'>;
}): OwnerResolver {
  return {
    async resolve(companySsoId, notes) {
      const creatorIds = notes.map((n) => n.creatorId).filter((id): id is string => id !== null);
      const byCrmId = new Map<string, string>();
      for (const user of await deps.users.findByCrmUserIds(companySsoId, creatorIds)) {
        if (user.crm_user_id !== undefined) byCrmId.set(user.crm_user_id, user.sso_id);
      }

      const needEmail = notes.filter(
        (n) => !(n.creatorId !== null && byCrmId.has(n.creatorId)) && n.creatorEmail,
      );
      const byEmail = new Map<string, string>();
      const emails = needEmail.map((n) => n.creatorEmail).filter((e): e is string => !!e);
      for (const user of await deps.users.findByEmails(companySsoId, emails)) {
        byEmail.set(user.email.trim().toLowerCase(), user.sso_id);
      }

      const out = new Map<string, OwnerResolution>();
      for (const note of notes) {
        const byId = note.creatorId !== null ? byCrmId.get(note.creatorId) : undefined;
        if (byId !== undefined) {
          out.set(note.id, { mapped: true, ownerId: byId, via: 'crm_user_id' });
          continue;
        }
        const ownerId = note.creatorEmail ? byEmail.get(note.creatorEmail.trim().toLowerCase()) : undefined;
        if (ownerId !== undefined) {
          out.set(note.id, { mapped: true, ownerId, via: 'email' });
          continue;
        }
        const label = note.creatorName?.trim() || UNKNOWN_OWNER_LABEL;
        out.set(note.id, {
          mapped: false,
          ownerId: null,
          legacyOwnerLabel: label,
          details: {
            creator_id: note.creatorId,
            creator_email_present: !!note.creatorEmail,
            legacy_owner_label: label,
          },
        });
      }
      return out;
    },
  };
}
