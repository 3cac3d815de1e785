import type { SigningKeyStore } from './signing-key-store.js';

export interface KeyRotationScheduleOptions {
  readonly keys: Pick<SigningKeyStore, 'rotateIfDue'>;
  /** Rotate once the signing key is this old (SIGNING_KEY_ROTATION_INTERVAL_SECONDS); 0 never. */
  readonly intervalSeconds: number;
  /** How often to look (default: a tenth of the interval, between 1 s and 1 h). */
  readonly checkEveryMs?: number;
  readonly onRotated?: (kid: string) => void;
  /** A failed look (PostgreSQL down) is reported and tried again at the next tick: the current key keeps signing. */
  readonly onError?: (error: unknown) => void;
}

export interface KeyRotationSchedule {
  /** Resolves after the first look, made at once (a key that became due while every replica was down rotates now). */
  readonly firstCheck: Promise<void>;
  stop(): void;
}

/**
 * Rotates Auth's signing key on a schedule. Every replica runs one; `rotateIfDue` decides under the keys' lock on
 * PostgreSQL's clock, so however many replicas look at once, one rotation happens per interval.
 */
export function scheduleKeyRotation(options: KeyRotationScheduleOptions): KeyRotationSchedule {
  if (options.intervalSeconds <= 0) return { firstCheck: Promise.resolve(), stop: () => undefined };
  const everyMs = options.checkEveryMs ?? Math.min(3_600_000, Math.max(1_000, (options.intervalSeconds * 1000) / 10));
  let running: Promise<void> | undefined;
  const check = (): Promise<void> => {
    running ??= options.keys
      .rotateIfDue(options.intervalSeconds)
      .then((kid) => {
        if (kid !== undefined) options.onRotated?.(kid);
      })
      .catch((error: unknown) => options.onError?.(error))
      .finally(() => {
        running = undefined;
      });
    return running;
  };
  const timer = setInterval(() => void check(), everyMs);
  timer.unref();
  return { firstCheck: check(), stop: () => clearInterval(timer) };
}
