import { describe, expect, it } from 'vitest';

import {
  detectConsoleCapabilities,
  fillTemplate,
  migrateBodyPropertiesOf,
} from '../../../../src/http/console/console-capabilities.js';
import { buildOpenApiDocument } from '../../../../src/http/openapi.js';

/** Kinds as the service states them: here every kind the trigger starts also resumes. */
const kinds = (triggered: string[]) => ({ triggered, resumable: triggered, all: triggered });

const base = [
  { method: 'POST', path: '/private/notes/migrate' },
  { method: 'POST', path: '/private/notes/migration/cancel' },
];

describe('console feature detection (#17: only actions whose endpoints exist)', () => {
  it('offers only the kinds the trigger accepts and the routes that are registered', () => {
    const caps = detectConsoleCapabilities(base, kinds(['migrate']), []);
    expect(caps).toMatchObject({
      migrate: true,
      dryRun: false,
      verifyAttachments: false,
      reconcile: false,
      repair: false,
      cancel: true,
      rollbackPath: null,
      wavePath: null,
      waveActions: {},
    });
    expect(detectConsoleCapabilities([], kinds(['migrate', 'dry_run']), [])).toMatchObject({
      kinds: [],
      migrate: false,
      dryRun: false,
      cancel: false,
    });
  });

  it('finds the rollback and wave routes whatever their parameters are called', () => {
    const caps = detectConsoleCapabilities(
      [
        ...base,
        { method: 'POST', path: '/private/notes/migration/runs/:id/rollback' },
        { method: 'GET', path: '/private/notes/waves/:wave_id' },
        { method: 'GET', path: '/private/notes/waves/:wave_id/stream' },
        { method: 'POST', path: '/private/notes/waves/:wave_id/pause' },
        { method: 'POST', path: '/private/notes/waves/:wave_id/cancel' },
        { method: 'GET', path: '/private/notes/waves/:wave_id/resume' },
      ],
      {
        triggered: ['migrate', 'dry_run', 'reconcile', 'repair'],
        resumable: ['migrate'],
        all: ['migrate', 'rollback'],
      },
      ['cid', 'verify_attachments'],
    );
    expect(caps).toMatchObject({
      resumableKinds: ['migrate'],
      listedKinds: ['migrate', 'rollback'],
      dryRun: true,
      verifyAttachments: true,
      reconcile: true,
      repair: true,
      rollbackPath: '/private/notes/migration/runs/:id/rollback',
      wavePath: '/private/notes/waves/:wave_id',
      waveStreamPath: '/private/notes/waves/:wave_id/stream',
      waveListPath: null,
      waveActions: {
        pause: '/private/notes/waves/:wave_id/pause',
        cancel: '/private/notes/waves/:wave_id/cancel',
      },
    });
    expect(fillTemplate('/private/notes/waves/:wave_id/pause', 'a/b c')).toBe(
      '/private/notes/waves/a%2Fb%20c/pause',
    );
  });

  it('reads the trigger body properties from the OpenAPI document the service serves', () => {
    expect(migrateBodyPropertiesOf(buildOpenApiDocument())).toEqual(
      expect.arrayContaining(['cid', 'company_sso_id', 'kind', 'mode']),
    );
    expect(migrateBodyPropertiesOf({})).toEqual([]);
    expect(migrateBodyPropertiesOf(null)).toEqual([]);
  });
});
