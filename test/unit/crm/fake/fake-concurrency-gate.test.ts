import { describe, expect, it } from 'vitest';

import {
  createFakeConcurrencyGate,
  type ReleaseSlot,
} from '../../../../src/crm/fake/fake-concurrency-gate.js';

describe('fake CRM concurrency gate', () => {
  it('serves 8 at once, queues 16 in order, refuses the 25th at once', async () => {
    const changes: Array<[number, number]> = [];
    const gate = createFakeConcurrencyGate(8, 16, (serving, queued) => changes.push([serving, queued]));
    const signal = new AbortController().signal;
    const served: ReleaseSlot[] = [];
    for (let i = 0; i < 8; i++) served.push((await gate.tryEnter(signal))!);
    const granted: number[] = [];
    const waiting = Array.from({ length: 16 }, (_, i) =>
      gate.tryEnter(signal)!.then((release) => {
        granted.push(i);
        return release!;
      }),
    );
    expect([gate.serving, gate.queued]).toEqual([8, 16]);
    expect(gate.tryEnter(signal)).toBeNull();

    served[0]!();
    served[0]!(); // released twice: counted once
    const first = await waiting[0]!;
    expect(granted).toEqual([0]);
    expect([gate.serving, gate.queued]).toEqual([8, 15]);
    for (const release of served.slice(1)) release();
    first();
    for (const w of waiting.slice(1)) (await w)();
    expect(granted).toEqual(Array.from({ length: 16 }, (_, i) => i));
    expect([gate.serving, gate.queued]).toEqual([0, 0]);
    expect(Math.max(...changes.map(([s]) => s))).toBe(8);
    expect(Math.max(...changes.map(([, q]) => q))).toBe(16);
  });

  it('gives a queued place up when its client leaves', async () => {
    const gate = createFakeConcurrencyGate(1, 1, () => {});
    const held = (await gate.tryEnter(new AbortController().signal))!;
    const leaving = new AbortController();
    const queued = gate.tryEnter(leaving.signal)!;
    expect(gate.tryEnter(new AbortController().signal)).toBeNull();
    leaving.abort();
    expect(await queued).toBeNull();
    expect(gate.queued).toBe(0);
    const next = gate.tryEnter(new AbortController().signal);
    expect(next).not.toBeNull();
    held();
    (await next!)!();
    expect(gate.serving).toBe(0);
  });
});
