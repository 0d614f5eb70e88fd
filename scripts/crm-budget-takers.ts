/**
 * Takes slots from the shared CRM budget (#16) as a worker process would, and prints when each
 * request was let go: one JSON line `{"cid","at_ms"}` per slot, then `{"done":true}`. The e2e
 * test runs two of these processes against one budget document; operators can use it to see the
 * budget's pace on their own deployment (it sends nothing to CRM).
 *
 *   node dist/scripts/crm-budget-takers.js --uri mongodb://… --key crm:probe --rate 10 --burst 2 \
 *     --tenants 3 --per-tenant 10 --cid-base 9000
 */
import { createSharedCrmBudget } from '../src/crm/shared-crm-budget.js';
import { createCrmBudgetRepository } from '../src/db/crm-budget-repository.js';
import { COLLECTIONS, type CrmBudgetDoc } from '../src/db/documents.js';
import { connectMongo } from '../src/db/mongo-client.js';
import { createLogger } from '../src/logger.js';

function arg(name: string): string {
  const i = process.argv.indexOf(`--${name}`);
  const value = i >= 0 ? process.argv[i + 1] : undefined;
  if (value === undefined) throw new Error(`--${name} is required`);
  return value;
}
const num = (name: string) => {
  const n = Number(arg(name));
  if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name} must be a positive number`);
  return n;
};

async function main() {
  const mongo = await connectMongo({ uri: arg('uri'), dbName: 'cdp' });
  try {
    const budget = createSharedCrmBudget({
      repo: createCrmBudgetRepository(mongo.db.collection<CrmBudgetDoc>(COLLECTIONS.crmBudgets)),
      key: arg('key'),
      capPerS: num('rate'),
      burst: num('burst'),
      logger: createLogger({ level: 'warn', name: 'crm-budget-takers' }),
    });
    await budget.start();
    const tenants = Array.from({ length: num('tenants') }, (_, i) => String(num('cid-base') + i));
    await Promise.all(
      tenants.map(async (cid) => {
        await Promise.all(
          Array.from({ length: num('per-tenant') }, async () => {
            await budget.acquire({ cid, kind: 'page' });
            process.stdout.write(`${JSON.stringify({ cid, at_ms: Date.now() })}\n`);
          }),
        );
      }),
    );
    process.stdout.write(`${JSON.stringify({ done: true })}\n`);
  } finally {
    await mongo.close();
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
  process.exitCode = 1;
});
