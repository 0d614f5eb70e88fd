/**
 * `feature_flags`: per-CID switches such as `crm_notes_migration_enabled`.
 */
import type { Collection } from 'mongodb';

import type { FeatureFlagDoc } from './documents.js';

export interface FeatureFlagsRepository {
  isEnabled(cid: string, flag: string): Promise<boolean>;
  setFlag(cid: string, flag: string, enabled: boolean, now: Date): Promise<void>;
}

export function createFeatureFlagsRepository(collection: Collection<FeatureFlagDoc>): FeatureFlagsRepository {
  return {
    async isEnabled(cid, flag) {
      const doc = await collection.findOne({ cid }, { projection: { flags: 1 } });
      return doc !== null && Object.hasOwn(doc.flags, flag) && doc.flags[flag] === true;
    },
    async setFlag(cid, flag, enabled, now) {
      await collection.updateOne(
        { cid },
        { $set: { [`flags.${flag}`]: enabled, updated_at: now }, $setOnInsert: { cid } },
        { upsert: true },
      );
    },
  };
}
