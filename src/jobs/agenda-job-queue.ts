/**
 * The trigger's job queue on Agenda: one job per run, keyed on `data.run_id` with `insertOnly`,
 * so enqueueing twice never resets a running job (AGENDA6-NOTES.md §1 "Unique jobs").
 */
import type { Agenda } from 'agenda';
import { type Collection, type Db, ObjectId } from 'mongodb';

import { COLLECTIONS } from '../db/documents.js';
import { JOB_NAME } from '../domain.js';
import type { MigrationJobData, MigrationJobQueue } from '../migration/trigger-migration.js';

export function createAgendaJobQueue(agenda: Agenda, db: Db): MigrationJobQueue {
  const jobs: Collection<{ _id: ObjectId; data?: MigrationJobData }> = db.collection(COLLECTIONS.agendaJobs);
  return {
    async enqueue(data) {
      const job = await agenda
        .create<MigrationJobData>(JOB_NAME, data)
        .unique({ 'data.run_id': data.run_id }, { insertOnly: true })
        .schedule(new Date())
        .save();
      if (job.attrs._id !== undefined) return String(job.attrs._id);
      // `save()` copies the id back only on insert; an existing job is found by its key.
      const existing = await jobs.findOne({ 'data.run_id': data.run_id }, { projection: { _id: 1 } });
      if (!existing) throw new Error(`enqueue: job for run ${data.run_id} was neither inserted nor found`);
      return existing._id.toHexString();
    },
    async exists(jobId) {
      if (!ObjectId.isValid(jobId)) return false;
      return (await jobs.countDocuments({ _id: new ObjectId(jobId) }, { limit: 1 })) > 0;
    },
  };
}
