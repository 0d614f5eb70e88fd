/**
 * Change streams or polling for waking workers (issue #6). The Mongo change-stream channel loops
 * silently every 100 ms on a server without change streams (AGENDA6-NOTES.md §2), so it is only
 * used after a probe shows change streams deliver `findOneAndUpdate` events.
 */
import { MongoChangeStreamNotificationChannel } from '@agendajs/mongo-backend';
import type { Db } from 'mongodb';

import { probeChangeStreams } from '../db/change-stream-probe.js';
import { toError } from '../errors.js';
import type { Logger } from '../logger.js';

export type ChangeStreamMode = 'auto' | 'on' | 'off';

export interface NotificationChoice {
  channel: MongoChangeStreamNotificationChannel | undefined;
  kind: 'change-streams' | 'polling';
  reason: string;
}

export async function chooseNotificationChannel(
  db: Db,
  mode: ChangeStreamMode,
  logger: Logger,
): Promise<NotificationChoice> {
  let choice: NotificationChoice;
  if (mode === 'off') {
    choice = { channel: undefined, kind: 'polling', reason: 'CHANGE_STREAMS=off' };
  } else {
    const probe = await probeChangeStreams(db);
    if (!probe.ok && mode === 'auto') {
      choice = { channel: undefined, kind: 'polling', reason: probe.reason };
    } else {
      const channel = new MongoChangeStreamNotificationChannel({ db, collection: 'agendaJobs' });
      // An emitted 'error' without a listener would throw; Agenda attaches none.
      channel.on('error', (e: unknown) =>
        logger.warn({ err: toError(e) }, 'agenda change stream error; polling continues'),
      );
      choice = {
        channel,
        kind: 'change-streams',
        reason: probe.ok ? probe.reason : `forced by CHANGE_STREAMS=on (${probe.reason})`,
      };
    }
  }
  logger.info({ notification: choice.kind, reason: choice.reason }, 'worker wake-up channel chosen');
  return choice;
}
