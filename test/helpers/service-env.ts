/**
 * The environment a `notes-migrator` subprocess needs to run against a test's database, fake CRM
 * and embedded S3, with attachment downloads allowed to reach the fake CRM on localhost.
 */
import { FAKE_CRM_DEFAULT_AUTH, type FakeCrm } from '../../src/crm/fake/fake-crm-server.js';
import type { TestS3 } from './embedded-s3.js';

export function serviceEnvFor(mongodbUri: string, crm: FakeCrm, s3: TestS3): Record<string, string> {
  return {
    MONGODB_URI: mongodbUri,
    CRM_API_ROOT_URL: crm.url,
    CRM_API_AUTH: FAKE_CRM_DEFAULT_AUTH,
    S3_ENDPOINT: s3.config.endpoint!,
    S3_BUCKET: s3.config.bucket,
    S3_ACCESS_KEY_ID: s3.config.accessKeyId!,
    S3_SECRET_ACCESS_KEY: s3.config.secretAccessKey!,
    ATTACHMENT_HOSTS: '127.0.0.1',
    ATTACHMENT_ALLOW_HTTP: 'true',
    ATTACHMENT_ALLOW_PRIVATE_NETWORKS: 'true',
    ATTACHMENT_ALLOWED_PORTS: String(crm.port),
  };
}
