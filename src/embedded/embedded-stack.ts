/**
 * The embedded defaults (DESIGN.md §10): when no MONGODB_URI is given, one process brings its own
 * MongoDB (mongodb-memory-server or the SecantusDB test server), an in-process S3 and the fake
 * CRM with a generated tenant, so a whole migration runs on a laptop. Development only.
 */
import { EMBEDDED_S3_ACCESS_KEY_ID, type EmbeddedS3, startEmbeddedS3 } from '../attachments/embedded-s3.js';
import { FAKE_CRM_DEFAULT_AUTH, type FakeCrm, startFakeCrm } from '../crm/fake/fake-crm-server.js';
import type { FakeTenantOptions } from '../crm/fake/fake-tenant-options.js';
import type { FakeTenantPlan } from '../crm/fake/fake-tenant-plan.js';
import { type EmbeddedMongo, startEmbeddedMongo } from '../db/embedded-mongo.js';
import type { Logger } from '../logger.js';
import { createReleaseStack } from '../release-stack.js';

export interface EmbeddedStackOptions {
  logger: Logger;
  /** Use this MongoDB instead of starting one. */
  mongoUri?: string | undefined;
  mongodBinary?: string | undefined;
  /** The tenant the fake CRM serves. */
  tenant: FakeTenantOptions;
}

export interface EmbeddedStack {
  /** Environment overrides that point the service at the embedded parts. */
  env: Record<string, string>;
  mongoKind: EmbeddedMongo['kind'] | 'external';
  crm: FakeCrm;
  s3: EmbeddedS3;
  plan: FakeTenantPlan;
  stop(): Promise<void>;
}

export async function startEmbeddedStack(options: EmbeddedStackOptions): Promise<EmbeddedStack> {
  const stack = createReleaseStack(
    (label, err) => options.logger.error({ err, resource: label }, 'release failed'),
    (label, ms) => options.logger.debug({ resource: label, ms }, 'released'),
  );
  try {
    let mongoUri = options.mongoUri;
    let mongoKind: EmbeddedStack['mongoKind'] = 'external';
    if (!mongoUri) {
      const mongo = await startEmbeddedMongo({ logger: options.logger, mongodBinary: options.mongodBinary });
      stack.defer('embedded mongo', () => mongo.stop());
      mongoUri = mongo.uri;
      mongoKind = mongo.kind;
    }
    const s3 = await startEmbeddedS3();
    stack.defer('embedded s3', () => s3.stop());
    const crm = await startFakeCrm({ tenants: [options.tenant], logger: options.logger });
    stack.defer('fake crm', () => crm.stop());
    options.logger.info({ mongo: mongoKind, crm: crm.url, s3: s3.endpoint }, 'embedded stack started');
    return {
      env: {
        MONGODB_URI: mongoUri,
        CRM_API_ROOT_URL: crm.url,
        CRM_API_AUTH: FAKE_CRM_DEFAULT_AUTH,
        S3_ENDPOINT: s3.endpoint,
        S3_BUCKET: s3.bucket,
        S3_ACCESS_KEY_ID: EMBEDDED_S3_ACCESS_KEY_ID,
        S3_SECRET_ACCESS_KEY: s3.secretAccessKey,
        S3_FORCE_PATH_STYLE: 'true',
        // The fake CRM serves attachments from 127.0.0.1 over http: development-only switches.
        ATTACHMENT_HOSTS: '127.0.0.1',
        ATTACHMENT_ALLOW_HTTP: 'true',
        ATTACHMENT_ALLOW_PRIVATE_NETWORKS: 'true',
        ATTACHMENT_ALLOWED_PORTS: String(crm.port),
      },
      mongoKind,
      crm,
      s3,
      plan: crm.plan(options.tenant.cid),
      stop: () => stack.release(),
    };
  } catch (e) {
    await stack.release().catch(() => undefined);
    throw e;
  }
}
