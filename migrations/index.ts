/** Every index migration, in order. Add new ones at the end; never edit an applied one. */
import type { IndexMigration } from '../src/db/index-migrations.js';
import { contactNotesIndexes } from './001-contact-notes-indexes.js';
import { contactsUsersIndexes } from './002-contacts-users-indexes.js';
import { migrationStateIndexes } from './003-migration-state-indexes.js';
import { agendaIndexes } from './004-agenda-indexes.js';
import { noteProvenanceIndex } from './005-note-provenance-index.js';
import { runNotesCursorAndScratchIndexes } from './006-run-notes-cursor-and-scratch.js';

export const INDEX_MIGRATIONS: readonly IndexMigration[] = [
  contactNotesIndexes,
  contactsUsersIndexes,
  migrationStateIndexes,
  agendaIndexes,
  noteProvenanceIndex,
  runNotesCursorAndScratchIndexes,
];
