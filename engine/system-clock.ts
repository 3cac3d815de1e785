import type { Clock } from './ports.js';

/**
 * The wall clock: the one place that reads `Date.now()`. Everything else is handed a `Clock`, so a test can
 * hand it another.
 *
 * @example
 * const engine = await PolicyEngine.start({ model, store, clock: systemClock });
 */
export const systemClock: Clock = { nowMs: () => Date.now() };
