/**
 * Prints the CRM fetch limit (scripts/crm-fetch-limit.ts) of fake CRM behaviour presets: a fake
 * CRM in this process serves one clean tenant with the preset, a plain client pages it with the
 * given in-flight window, and the JSON shows pages/s, notes/s, 429s and the fake's own counters.
 *
 *   npm run bench:crm-fetch-limit -- --behaviour realistic,slow --notes 10000 --in-flight 2
 */
import { parseArgs } from 'node:util';

import {
  FAKE_CRM_BEHAVIOUR_PRESETS,
  type FakeCrmBehaviourPreset,
} from '../src/crm/fake/fake-crm-behaviour.js';
import { FAKE_CRM_DEFAULT_AUTH, startFakeCrm } from '../src/crm/fake/fake-crm-server.js';
import { measureCrmFetchLimit } from './crm-fetch-limit.js';

const { values } = parseArgs({
  options: {
    behaviour: { type: 'string', default: 'realistic' },
    notes: { type: 'string', default: '10000' },
    'per-page': { type: 'string', default: '500' },
    'in-flight': { type: 'string', default: '2' },
    passes: { type: 'string', default: '1' },
    seed: { type: 'string', default: '1' },
  },
});

const presets = (
  values.behaviour === 'all' ? [...FAKE_CRM_BEHAVIOUR_PRESETS] : values.behaviour.split(',')
).map((name) => {
  if (!FAKE_CRM_BEHAVIOUR_PRESETS.includes(name as FakeCrmBehaviourPreset)) {
    throw new Error(
      `--behaviour must list presets of ${FAKE_CRM_BEHAVIOUR_PRESETS.join(', ')} (or all), got ${name}`,
    );
  }
  return name as FakeCrmBehaviourPreset;
});
const notes = Number(values.notes);
const perPage = Number(values['per-page']);
const inFlightWindows = values['in-flight'].split(',').map(Number);

const results = [];
for (const preset of presets) {
  for (const inFlight of inFlightWindows) {
    const fake = await startFakeCrm({
      tenants: [{ cid: 'limit', companySsoId: 'co-limit', noteCount: notes, seed: 1, preset: 'clean' }],
      behaviour: { preset, seed: Number(values.seed) },
    });
    try {
      const limit = await measureCrmFetchLimit({
        url: fake.url,
        auth: FAKE_CRM_DEFAULT_AUTH,
        cid: 'limit',
        perPage,
        inFlight,
        passes: Number(values.passes),
      });
      const counters = fake.counters();
      results.push({
        behaviour: preset,
        ...limit,
        fake: {
          requests: counters.requests,
          rateLimited: counters.rateLimited,
          refused: counters.refused,
          servingPeak: counters.serving.peak,
          latencyTails: counters.latency.tails,
        },
      });
    } finally {
      await fake.stop();
    }
  }
}
process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
