import { describe, expect, it } from 'vitest';

import { hasVisibleChar } from '../../../src/normalize/visible-text.js';

describe('hasVisibleChar', () => {
  it.each(['a', '@', '&lt;', '👍', '会', ' x '])('sees %j', (text) => {
    expect(hasVisibleChar(text)).toBe(true);
  });

  it.each(['', ' \n\t\r', '\u00a0', '\u200b', '\u200d', '\ufeff', '\u200e\u200f', '\u0000'])(
    'sees nothing in %j',
    (text) => {
      expect(hasVisibleChar(text)).toBe(false);
    },
  );
});
