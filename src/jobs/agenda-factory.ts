/**
 * Agenda 6 on the service's own MongoClient (AGENDA6-NOTES.md §1). Our index migration creates
 * Agenda's indexes, so the backend does not (`ensureIndex: false`); every `'error'` goes to the
 * log, because Agenda's own listener swallows them.
 */
import { MongoBackend } from '@agendajs/mongo-backend';
import { Agenda, type NotificationChannel } from 'agenda';
import type { Db } from 'mongodb';

import { toError } from '../errors.js';
import type { Logger } from '../logger.js';

export interface AgendaFactoryOptions {
  db: Db;
  /** Written as `lastModifiedBy` on jobs: which process touched a job last. */
  name: string;
  processEveryMs: number;
  lockLifetimeMs: number;
  /** Jobs this process runs at once; also its lock limit, so it never hoards jobs it cannot run. */
  concurrency: number;
  /** Further jobs of other names (wave schedulers, #16) on top of `concurrency`. Default 0. */
  extraSlots?: number;
  logger: Logger;
  notificationChannel?: NotificationChannel | undefined;
}

export async function createAgenda(options: AgendaFactoryOptions): Promise<Agenda> {
  const agenda = new Agenda({
    backend: new MongoBackend({ mongo: options.db, ensureIndex: false }),
    name: options.name,
    processEvery: options.processEveryMs,
    maxConcurrency: options.concurrency + (options.extraSlots ?? 0),
    defaultConcurrency: options.concurrency,
    lockLimit: options.concurrency + (options.extraSlots ?? 0),
    defaultLockLimit: options.concurrency,
    defaultLockLifetime: options.lockLifetimeMs,
    ...(options.notificationChannel ? { notificationChannel: options.notificationChannel } : {}),
  });
  agenda.on('error', (e: unknown) => options.logger.error({ err: toError(e) }, 'agenda error'));
  await agenda.ready;
  return agenda;
}
