import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Pacer } from '../../src/worker/pacer.js';

describe('Pacer', () => {
  it('hands out send slots exactly 1/pps apart, never a burst', async () => {
    let now = 1_000;
    const pacer = new Pacer(200, () => now);
    const slots: number[] = [];
    // Every take() reserves the next slot; with a frozen clock the reservations show the schedule.
    const takes = Array.from({ length: 10 }, () => {
      const p = pacer.take();
      slots.push((pacer as unknown as { nextAt: number }).nextAt - 5);
      return p;
    });
    now = 1_000_000; // let the sleeps resolve at once
    await Promise.all(takes);
    slots.forEach((s, i) => assert.ok(Math.abs(s - (1_000 + i * 5)) < 1e-9, `slot ${i} at ${s}`));
  });

  it('does not save up unused time: after a quiet spell the next slot is now, then 1/pps apart', async () => {
    let now = 0;
    const pacer = new Pacer(10, () => now);
    await pacer.take();
    now = 60_000;
    await pacer.take();
    assert.equal((pacer as unknown as { nextAt: number }).nextAt, 60_100);
  });
});
