/**
 * The raw write limit of `npm run bench` (#8, #15): the pipeline's own finished documents
 * bulk-upserted (pages of the bench's page size, unordered, `$setOnInsert` on the unique key)
 * into a fresh collection with the same indexes — only the writes are timed. Optionally with the
 * change stream open that every idle worker holds on `agendaJobs`, the conditions the pipeline
 * writes under when change streams are on. The collection is dropped afterwards.
 */
import { performance } from 'node:perf_hooks';

import type { AnyBulkWriteOperation, Db } from 'mongodb';

import type { ContactNoteDoc } from '../src/db/documents.js';

/** Upserts the pipeline's own output into a fresh collection with the same indexes; only writes are timed. */
export async function rawWriteLimit(
  db: Db,
  say: (line: string) => void,
  companySsoId: string,
  collectionName: string,
  withWorkerChangeStream: boolean,
  pageSize: number,
): Promise<{ docs: number; seconds: number; docsPerSec: number }> {
  const target = db.collection<Omit<ContactNoteDoc, '_id'>>(collectionName);
  // The same stream MongoChangeStreamNotificationChannel opens in an idle worker.
  const stream = withWorkerChangeStream
    ? db
        .collection('agendaJobs')
        .watch([{ $match: { operationType: { $in: ['insert', 'update', 'replace'] } } }], {
          fullDocument: 'updateLookup',
        })
    : null;
  stream?.on('change', () => undefined);
  if (stream) await new Promise((resolve) => setTimeout(resolve, 1_000));
  for (const idx of await db.collection('contact_notes').listIndexes().toArray()) {
    if (idx.name === '_id_') continue;
    const { key, name, unique, partialFilterExpression } = idx as {
      key: Record<string, 1 | -1>;
      name: string;
      unique?: boolean;
      partialFilterExpression?: Record<string, unknown>;
    };
    await target.createIndex(key, {
      name,
      ...(unique ? { unique } : {}),
      ...(partialFilterExpression ? { partialFilterExpression } : {}),
    });
  }
  let writeMs = 0;
  let docs = 0;
  let batch: AnyBulkWriteOperation<Omit<ContactNoteDoc, '_id'>>[] = [];
  const flush = async () => {
    const began = performance.now();
    await target.bulkWrite(batch, { ordered: false });
    writeMs += performance.now() - began;
    docs += batch.length;
    batch = [];
  };
  const cursor = db
    .collection<ContactNoteDoc>('contact_notes')
    .find({ company_sso_id: companySsoId }, { projection: { _id: 0 } });
  for await (const doc of cursor) {
    batch.push({
      updateOne: {
        filter: { company_sso_id: doc.company_sso_id, legacy_crm_note_id: doc.legacy_crm_note_id },
        update: { $setOnInsert: doc },
        upsert: true,
      },
    });
    if (batch.length === pageSize) await flush();
  }
  if (batch.length > 0) await flush();
  await stream?.close();
  // A bench artefact, not the pipeline's state: later measurements run without its documents.
  await target.drop();
  const seconds = writeMs / 1000;
  say(
    `      ${Math.round(docs / seconds)} docs/s${withWorkerChangeStream ? ' (a worker change stream open)' : ''}`,
  );
  return { docs, seconds, docsPerSec: Math.round(docs / seconds) };
}
