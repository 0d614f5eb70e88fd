/**
 * The wave scheduler's job queue on Agenda (#16): one job per wave generation, keyed on
 * `data.wave_id` + `data.generation` with `insertOnly`, so N concurrent resumes or cancels that
 * reach the same generation enqueue one job, and an existing job is never reset.
 */
import type { Agenda } from 'agenda';
import type { Collection, Db, ObjectId } from 'mongodb';

import { COLLECTIONS } from '../db/documents.js';
import { WAVE_JOB_NAME } from '../domain.js';
import type { WaveJobData, WaveJobQueue } from '../migration/waves/wave-commands.js';

export function createAgendaWaveQueue(agenda: Agenda, db: Db): WaveJobQueue {
  const jobs: Collection<{ _id: ObjectId; name?: string; data?: WaveJobData }> = db.collection(
    COLLECTIONS.agendaJobs,
  );
  return {
    async enqueue(data) {
      const job = await agenda
        .create<WaveJobData>(WAVE_JOB_NAME, data)
        .unique({ 'data.wave_id': data.wave_id, 'data.generation': data.generation }, { insertOnly: true })
        .schedule(new Date())
        .save();
      if (job.attrs._id !== undefined) return String(job.attrs._id);
      const existing = await jobs.findOne(
        { name: WAVE_JOB_NAME, 'data.wave_id': data.wave_id, 'data.generation': data.generation },
        { projection: { _id: 1 } },
      );
      if (!existing)
        throw new Error(`enqueue: scheduler job of wave ${data.wave_id} was neither inserted nor found`);
      return existing._id.toHexString();
    },
  };
}
