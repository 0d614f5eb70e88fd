import { describe, expect, it } from 'vitest';

import { countOwn, ownEntry, ownValue, setOwn } from '../../src/own-properties.js';

describe('own-property dictionaries (#18)', () => {
  it('stores and reads __proto__, constructor and toString as ordinary keys, leaving prototypes alone', () => {
    const dict: Record<string, number> = {};
    for (const key of ['__proto__', 'constructor', 'toString']) setOwn(dict, key, 1);
    countOwn(dict, '__proto__');
    expect(Object.getPrototypeOf(dict)).toBe(Object.prototype);
    expect(Object.keys(dict)).toEqual(['__proto__', 'constructor', 'toString']);
    expect(ownValue(dict, '__proto__')).toBe(2);
    expect(JSON.parse(JSON.stringify(dict))).toEqual(
      JSON.parse('{"__proto__":2,"constructor":1,"toString":1}'),
    );
    expect(({} as Record<string, unknown>).constructor).toBe(Object);
  });

  it('never returns an inherited property', () => {
    const dict: Record<string, unknown> = {};
    expect(ownValue(dict, 'constructor')).toBeUndefined();
    expect(ownValue(dict, 'hasOwnProperty')).toBeUndefined();
  });

  it('creates an entry once and returns the same one after', () => {
    const tallies: Record<string, { n: number }> = {};
    ownEntry(tallies, 'constructor', () => ({ n: 0 })).n++;
    ownEntry(tallies, 'constructor', () => ({ n: 100 })).n++;
    expect(tallies).toEqual({ constructor: { n: 2 } });
  });
});
