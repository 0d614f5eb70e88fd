import { describe, expect, it } from 'vitest';

import {
  setEventId,
  stateDigest,
  statusEventId,
  tryParseLastEventId,
} from '../../../src/http/sse-event-id.js';
import { toStatusView } from '../../../src/http/status-view.js';
import { makeRun } from '../../fixtures/builders.js';

describe('status stream event ids (#17)', () => {
  it('names the state: equal bodies give equal ids, any change gives another', () => {
    const a = toStatusView(makeRun({ _id: 'r-1', notes_processed: 3 }));
    expect(statusEventId(a)).toMatch(/^r-1\.[0-9a-f]{16}$/);
    expect(statusEventId(toStatusView(makeRun({ _id: 'r-1', notes_processed: 3 })))).toBe(statusEventId(a));
    expect(statusEventId(toStatusView(makeRun({ _id: 'r-1', notes_processed: 4 })))).not.toBe(
      statusEventId(a),
    );
    expect(statusEventId({ status: 'not_started' })).toBe('not_started');
  });

  it('digests a set of states independently of insertion order', () => {
    const one = new Map([
      ['1', stateDigest({ a: 1 })],
      ['2', stateDigest({ b: 2 })],
    ]);
    const other = new Map([
      ['2', stateDigest({ b: 2 })],
      ['1', stateDigest({ a: 1 })],
    ]);
    expect(setEventId(one)).toBe(setEventId(other));
    expect(setEventId(one)).toMatch(/^set\.[0-9a-f]{16}$/);
    other.set('1', stateDigest({ a: 2 }));
    expect(setEventId(one)).not.toBe(setEventId(other));
  });

  it('accepts only ids it could have sent as Last-Event-ID', () => {
    expect(tryParseLastEventId('run-1.0123456789abcdef')).toBe('run-1.0123456789abcdef');
    expect(tryParseLastEventId('  not_started ')).toBe('not_started');
    for (const bad of [undefined, '', '<script>', 'a b', 'x'.repeat(201), 'id\nevent: end']) {
      expect(tryParseLastEventId(bad), JSON.stringify(bad)).toBeNull();
    }
  });
});
