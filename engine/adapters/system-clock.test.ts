import { describe, expect, it } from 'vitest';
import { ManualClock, systemClock } from './system-clock.js';

describe('systemClock', () => {
  it('reads the wall clock', () => {
    const before = Date.now();
    const now = systemClock.nowMs();
    expect(now).toBeGreaterThanOrEqual(before);
    expect(now).toBeLessThanOrEqual(Date.now());
  });
});

describe('ManualClock', () => {
  it('moves only when told: advance adds, set jumps', () => {
    const clock = new ManualClock(1_000);
    expect(clock.nowMs()).toBe(1_000);
    clock.advance(250);
    expect(clock.nowMs()).toBe(1_250);
    clock.set(50);
    expect(clock.nowMs()).toBe(50);
  });

  it('starts at 0 by default', () => {
    expect(new ManualClock().nowMs()).toBe(0);
  });

  it('refuses to advance backwards or by a non-finite amount', () => {
    const clock = new ManualClock();
    expect(() => clock.advance(-1)).toThrow(RangeError);
    expect(() => clock.advance(Number.NaN)).toThrow(RangeError);
    expect(() => clock.set(Number.POSITIVE_INFINITY)).toThrow(RangeError);
    expect(clock.nowMs()).toBe(0);
  });
});
