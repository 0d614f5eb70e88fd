/**
 * Agenda's indexes, created here rather than by Agenda itself: Agenda creates them in a promise
 * nobody awaits, so a failure there (e.g. a missing privilege) crashes the process instead of
 * failing `migrate up` with a message (AGENDA6-NOTES.md §1, §3). Keys and names equal Agenda's own,
 * so Agenda's `createIndex` calls are no-ops.
 */
import type { IndexMigration } from '../src/db/index-migrations.js';

export const agendaIndexes: IndexMigration = {
  id: '004-agenda-indexes',
  description: 'agendaJobs lock/scan indexes and the run_id key; agenda_logs indexes',
  indexes: [
    {
      collection: 'agendaJobs',
      name: 'findAndLockNextJobIndex',
      key: { name: 1, nextRunAt: 1, priority: -1, lockedAt: 1, disabled: 1 },
    },
    { collection: 'agendaJobs', name: 'findAndLockDeadJobs', key: { name: 1, disabled: 1, lockedAt: 1 } },
    // Enqueueing is keyed on the run: `unique({'data.run_id': …})` looks the job up by it.
    { collection: 'agendaJobs', name: 'ix_agenda_jobs_run_id', key: { 'data.run_id': 1 } },
    { collection: 'agenda_logs', name: 'agenda_logs_timestamp_idx', key: { timestamp: -1 } },
    { collection: 'agenda_logs', name: 'agenda_logs_job_id_idx', key: { jobId: 1, timestamp: -1 } },
    { collection: 'agenda_logs', name: 'agenda_logs_job_name_idx', key: { jobName: 1, timestamp: -1 } },
  ],
};
