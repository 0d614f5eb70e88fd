/**
 * `migration_waves` (#16, DESIGN.md §11.7). Operators change a wave's state (pause, resume,
 * cancel) with single conditional updates; everything else — members, the fleet sample, the
 * stop rule's pause, the end — is written by the wave's scheduler, fenced on its lease epoch like
 * a run (`scheduler.epoch` only grows), so a scheduler that lost its lease writes nothing more.
 */
import type { Collection, Filter, UpdateFilter } from 'mongodb';

import type { WaveState } from '../domain.js';
import { setOwn } from '../own-properties.js';
import type { WaveDoc, WaveFleetDoc, WaveMemberDoc, WavePauseDoc } from './documents.js';
import { isDuplicateKeyError } from './mongo-errors.js';

export type CreateWaveResult =
  { created: true } | { created: false; busy: { cid: string; wave_id: string }[] };

/** Field changes of one member, by its index in `members`. */
export type MemberChanges = ReadonlyMap<number, Partial<WaveMemberDoc>>;

export interface WavesRepository {
  /** Inserts a wave; refused when a member CID is in another wave that has not ended. */
  create(wave: WaveDoc): Promise<CreateWaveResult>;
  get(waveId: string): Promise<WaveDoc | null>;
  /** Newest first, without members (a summary list). */
  list(limit: number): Promise<Omit<WaveDoc, 'members'>[]>;
  /** Removes a wave no scheduler ever worked on (its job could not be enqueued). */
  deleteUnstarted(waveId: string): Promise<void>;

  /** Operator: `running` → `paused`. Null when the wave is not running. */
  pause(waveId: string, pause: WavePauseDoc, now: Date): Promise<WaveDoc | null>;
  /** Operator: `paused` → `running`, a new generation (retries halted and failed members). */
  resume(waveId: string, now: Date): Promise<WaveDoc | null>;
  /** Operator: `running`/`paused` → `cancelling`, a new generation (so a scheduler runs to finish it). */
  requestCancel(waveId: string, by: string, now: Date): Promise<WaveDoc | null>;

  /** The wave's scheduler lease for a job of `generation`: free, expired or handed off. */
  claimScheduler(
    waveId: string,
    owner: string,
    generation: number,
    leaseMs: number,
    now: Date,
  ): Promise<WaveDoc | null>;
  renewScheduler(waveId: string, epoch: number, leaseMs: number, now: Date): Promise<boolean>;
  /** Ends this scheduler's lease now, so the next one may claim it at once. */
  releaseScheduler(waveId: string, epoch: number, now: Date): Promise<boolean>;

  /**
   * Fenced: member changes (and the fleet sample). With `whileRunning`, only while the wave is
   * still `running` (a member is marked `starting` only then: an operator's pause wins the race).
   */
  updateMembers(
    waveId: string,
    epoch: number,
    changes: MemberChanges,
    options?: { fleet?: WaveFleetDoc; whileRunning?: boolean; now: Date },
  ): Promise<boolean>;
  /** Fenced: the stop rule or a failed canary pauses a running wave. */
  pauseByRule(waveId: string, epoch: number, pause: WavePauseDoc, now: Date): Promise<boolean>;
  /** Fenced: the wave ends (`completed` from running, `cancelled` from cancelling); its CIDs are freed. */
  finish(
    waveId: string,
    epoch: number,
    from: WaveState,
    to: 'completed' | 'cancelled',
    now: Date,
  ): Promise<boolean>;
}

export function createWavesRepository(collection: Collection<WaveDoc>): WavesRepository {
  const fenced = (waveId: string, epoch: number): Filter<WaveDoc> => ({
    _id: waveId,
    'scheduler.epoch': epoch,
  });
  const fencedUpdate = async (filter: Filter<WaveDoc>, update: UpdateFilter<WaveDoc>) =>
    (await collection.updateOne(filter, update)).matchedCount === 1;

  return {
    async create(wave) {
      try {
        await collection.insertOne(wave);
        return { created: true };
      } catch (e) {
        if (!isDuplicateKeyError(e)) throw e;
        const cids = wave.active_cids ?? [];
        const holders = await collection
          .find({ active_cids: { $in: cids } }, { projection: { active_cids: 1 } })
          .toArray();
        const wanted = new Set(cids);
        const busy = holders.flatMap((h) =>
          (h.active_cids ?? []).filter((cid) => wanted.has(cid)).map((cid) => ({ cid, wave_id: h._id })),
        );
        return { created: false, busy };
      }
    },

    get: (waveId) => collection.findOne({ _id: waveId }),

    list: (limit) =>
      collection.find({}, { projection: { members: 0 }, sort: { created_at: -1, _id: -1 }, limit }).toArray(),

    async deleteUnstarted(waveId) {
      await collection.deleteOne({ _id: waveId, 'scheduler.epoch': 0 });
    },

    pause: (waveId, pause, now) =>
      collection.findOneAndUpdate(
        { _id: waveId, state: 'running' },
        { $set: { state: 'paused', pause, updated_at: now } },
        { returnDocument: 'after' },
      ),

    resume: (waveId, now) =>
      collection.findOneAndUpdate(
        { _id: waveId, state: 'paused' },
        { $set: { state: 'running', pause: null, updated_at: now }, $inc: { generation: 1 } },
        { returnDocument: 'after' },
      ),

    requestCancel: (waveId, by, now) =>
      collection.findOneAndUpdate(
        { _id: waveId, state: { $in: ['running', 'paused'] } },
        { $set: { state: 'cancelling', cancel: { by, at: now }, updated_at: now }, $inc: { generation: 1 } },
        { returnDocument: 'after' },
      ),

    claimScheduler: (waveId, owner, generation, leaseMs, now) =>
      collection.findOneAndUpdate(
        {
          _id: waveId,
          generation,
          state: { $in: ['running', 'paused', 'cancelling'] },
          $or: [{ 'scheduler.owner': null }, { 'scheduler.expires_at': { $lte: now } }],
        },
        {
          $set: {
            'scheduler.owner': owner,
            'scheduler.expires_at': new Date(now.getTime() + leaseMs),
            'scheduler.generation': generation,
            updated_at: now,
          },
          $inc: { 'scheduler.epoch': 1 },
        },
        { returnDocument: 'after' },
      ),

    renewScheduler: (waveId, epoch, leaseMs, now) =>
      fencedUpdate(fenced(waveId, epoch), {
        $set: { 'scheduler.expires_at': new Date(now.getTime() + leaseMs) },
      }),

    releaseScheduler: (waveId, epoch, now) =>
      fencedUpdate(fenced(waveId, epoch), { $set: { 'scheduler.owner': null, 'scheduler.expires_at': now } }),

    updateMembers(waveId, epoch, changes, options) {
      const set: Record<string, unknown> = { updated_at: options?.now ?? new Date() };
      for (const [index, fields] of changes) {
        for (const [field, value] of Object.entries(fields)) setOwn(set, `members.${index}.${field}`, value);
      }
      if (options?.fleet) set.fleet = options.fleet;
      const filter = options?.whileRunning
        ? { ...fenced(waveId, epoch), state: 'running' as const }
        : fenced(waveId, epoch);
      return fencedUpdate(filter, { $set: set });
    },

    pauseByRule: (waveId, epoch, pause, now) =>
      fencedUpdate(
        { ...fenced(waveId, epoch), state: 'running' },
        { $set: { state: 'paused', pause, updated_at: now } },
      ),

    finish: (waveId, epoch, from, to, now) =>
      fencedUpdate(
        { ...fenced(waveId, epoch), state: from },
        {
          $set: {
            state: to,
            finished_at: now,
            updated_at: now,
            'scheduler.owner': null,
            'scheduler.expires_at': now,
          },
          $unset: { active_cids: '' },
        },
      ),
  };
}
