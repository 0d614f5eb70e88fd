import { describe, expect, it } from 'vitest';

import { redactUrl } from '../../../src/attachments/redact-url.js';

describe('redactUrl', () => {
  it('drops user names, passwords, fragments and query values, and keeps query keys', () => {
    expect(redactUrl('https://user:secret@files.example/a.pdf?X-Amz-Signature=abc&id=5#frag')).toBe(
      'https://files.example/a.pdf?X-Amz-Signature=[redacted]&id=[redacted]',
    );
  });

  it('strips credentials even from a URL it cannot parse', () => {
    expect(redactUrl('htp//user:pw@host/x')).toBe('htp//host/x');
  });
});
