/**
 * Builds every repository from one database handle. Callers take the narrow slice they use
 * (`Pick<Repositories, 'runs' | 'failures'>`).
 */
import type { Db } from 'mongodb';

import { type ContactNotesRepository, createContactNotesRepository } from './contact-notes-repository.js';
import { type ContactsRepository, createContactsRepository } from './contacts-repository.js';
import { createFailuresRepository, type FailuresRepository } from './failures-repository.js';
import { createFeatureFlagsRepository, type FeatureFlagsRepository } from './feature-flags-repository.js';
import { createLocksRepository, type LocksRepository } from './locks-repository.js';
import { getCollections } from './mongo-client.js';
import { createRunScratchRepository, type RunScratchRepository } from './run-scratch-repository.js';
import { createRunsRepository, type RunsRepository } from './runs-repository.js';
import { createUsersRepository, type UsersRepository } from './users-repository.js';

export interface Repositories {
  contactNotes: ContactNotesRepository;
  contacts: ContactsRepository;
  users: UsersRepository;
  featureFlags: FeatureFlagsRepository;
  runs: RunsRepository;
  locks: LocksRepository;
  failures: FailuresRepository;
  runScratch: RunScratchRepository;
}

export function createRepositories(db: Db): Repositories {
  const c = getCollections(db);
  return {
    contactNotes: createContactNotesRepository(c.contactNotes),
    contacts: createContactsRepository(c.contacts),
    users: createUsersRepository(c.users),
    featureFlags: createFeatureFlagsRepository(c.featureFlags),
    runs: createRunsRepository(c.runs),
    locks: createLocksRepository(c.locks),
    failures: createFailuresRepository(c.failures),
    runScratch: createRunScratchRepository(c.runScratch),
  };
}
