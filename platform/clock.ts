import type { Clock } from '../engine/index.js';

export type { Clock };

/** The one clock that reads the host's time; everything else is handed a `Clock` (tests hand their own). */
export const systemClock: Clock = Object.freeze({ nowMs: () => Date.now() });
