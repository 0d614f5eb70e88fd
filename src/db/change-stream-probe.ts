/**
 * Do change streams work on this deployment, and do they deliver `findOneAndUpdate` writes?
 * Decided by trying (AGENDA6-NOTES.md §2): a standalone server, a missing privilege or a
 * substitute server all fail here, and the caller falls back to polling.
 */
import type { Db } from 'mongodb';

import { toError } from '../errors.js';

export interface ChangeStreamProbeResult {
  ok: boolean;
  reason: string;
}

const PROBE_COLLECTION = '_cnm_change_stream_probe';

export async function probeChangeStreams(db: Db, timeoutMs = 3_000): Promise<ChangeStreamProbeResult> {
  const hello = await db.admin().command({ hello: 1 });
  if (!hello.setName && hello.msg !== 'isdbgrid') {
    return { ok: false, reason: 'server is a standalone (no replica set): change streams need one' };
  }
  const coll = db.collection<{ _id: string; n: number }>(PROBE_COLLECTION);
  const stream = coll.watch([], { maxAwaitTimeMS: 200 });
  const probeId = `probe-${process.pid}-${Date.now()}`;
  try {
    // Open the cursor before writing, so the writes fall after its start.
    await stream.tryNext();
    await coll.insertOne({ _id: probeId, n: 0 });
    await coll.findOneAndUpdate({ _id: probeId }, { $set: { n: 1 } });
    const seen = new Set<string>();
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline && !(seen.has('insert') && seen.has('update'))) {
      const event = await stream.tryNext();
      if (event && 'documentKey' in event && (event.documentKey as { _id?: unknown })._id === probeId) {
        seen.add(event.operationType);
      }
    }
    if (!seen.has('insert'))
      return { ok: false, reason: 'change stream opened but delivered no insert event' };
    if (!seen.has('update'))
      return { ok: false, reason: 'change stream delivered no event for a findOneAndUpdate' };
    return { ok: true, reason: 'change stream delivered insert and findOneAndUpdate events' };
  } catch (e) {
    return { ok: false, reason: `change stream rejected: ${toError(e).message}` };
  } finally {
    await stream.close().catch(() => undefined);
    await coll.deleteOne({ _id: probeId }).catch(() => undefined);
  }
}
