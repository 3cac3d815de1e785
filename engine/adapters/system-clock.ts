import type { Clock } from '../ports.js';

/** The wall clock (`Date.now()`). */
export const systemClock: Clock = Object.freeze({ nowMs: () => Date.now() });

/**
 * A clock that moves only when told, for tests.
 *
 * @example
 * const clock = new ManualClock(0);
 * clock.advance(30_000);
 * clock.nowMs(); // 30000
 */
export class ManualClock implements Clock {
  private currentMs: number;

  constructor(startMs = 0) {
    this.currentMs = startMs;
  }

  nowMs(): number {
    return this.currentMs;
  }

  advance(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) throw new RangeError(`a clock only moves forward, got ${ms} ms`);
    this.currentMs += ms;
  }

  set(ms: number): void {
    if (!Number.isFinite(ms)) throw new RangeError(`time must be finite, got ${ms}`);
    this.currentMs = ms;
  }
}
