/**
 * The CDP read path `GET /v1/contacts/:contact_id/notes?company_sso_id=&limit=` (breakdown Task
 * 2.6): a contact's notes, newest first, each with its author (live SSO name, else
 * `legacy_owner_label`) and the requesting user's edit/delete permissions (`note-permissions.ts`).
 * The requesting user is named by the `X-User-Sso-Id` header; without it nothing is editable.
 */
import type { Router } from '@koa/router';
import { z } from 'zod';

import type { ContactNotesRepository } from '../db/contact-notes-repository.js';
import type { ContactsRepository } from '../db/contacts-repository.js';
import type { UsersRepository } from '../db/users-repository.js';
import { AppError } from '../errors.js';
import { toNoteView } from './note-view.js';
import { companySsoIdSchema, describeValue, limitSchema, parseInput } from './parse-input.js';

export const READ_PATH_DEFAULT_LIMIT = 50;
export const READ_PATH_MAX_LIMIT = 200;

/** CDP contact ids and SSO user ids: 1-128 characters of `A-Z a-z 0-9 . _ : @ -`. */
const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}$/;

const idSchema = (name: string) =>
  z.unknown().transform((value, ctx): string => {
    if (typeof value === 'string' && ID_PATTERN.test(value)) return value;
    ctx.addIssue({
      code: 'custom',
      message: `${name} must be 1-128 characters of A-Z a-z 0-9 . _ : @ -, got ${describeValue(value)}`,
    });
    return z.NEVER;
  });

export const ReadPathQuerySchema = z.strictObject({
  company_sso_id: companySsoIdSchema,
  limit: limitSchema(READ_PATH_DEFAULT_LIMIT, READ_PATH_MAX_LIMIT),
});

export const VIEWER_HEADER = 'x-user-sso-id';

export interface ReadPathRouteDeps {
  contactNotes: Pick<ContactNotesRepository, 'listForContact'>;
  contacts: Pick<ContactsRepository, 'exists'>;
  users: Pick<UsersRepository, 'findBySsoIds'>;
}

export function registerReadPathRoutes(router: Router, deps: ReadPathRouteDeps): void {
  router.get('/v1/contacts/:contact_id/notes', async (ctx) => {
    const contactId = parseInput(idSchema('contact_id'), ctx.params.contact_id, 'path');
    const { company_sso_id: companySsoId, limit } = parseInput(ReadPathQuerySchema, ctx.query, 'query');
    const viewerHeader = ctx.get(VIEWER_HEADER);
    const viewer = viewerHeader === '' ? null : parseInput(idSchema(VIEWER_HEADER), viewerHeader, 'header');

    if (!(await deps.contacts.exists(companySsoId, contactId))) {
      throw new AppError('NOT_FOUND', `Contact ${contactId} does not exist in company ${companySsoId}`, {
        details: { contact_id: contactId, company_sso_id: companySsoId },
      });
    }
    const notes = await deps.contactNotes.listForContact(companySsoId, contactId, limit);
    const ownerIds = [...new Set(notes.map((n) => n.owner_id).filter((id): id is string => !!id))];
    const users = await deps.users.findBySsoIds(ownerIds);
    // Only users of the note's company may name its author.
    const names = new Map(
      users.filter((u) => u.company_sso_id === companySsoId).map((u) => [u.sso_id, u.name]),
    );
    ctx.body = { contact_id: contactId, notes: notes.map((n) => toNoteView(n, names, viewer)) };
  });
}
