import { z } from 'zod';

const flag = z.enum(['true', 'false', '1', '0']).default('true').transform((v) => v === 'true' || v === '1');
const max = (fallback: number) => z.coerce.number().int().min(1).max(1_000_000).default(fallback);
const windowSeconds = z.coerce.number().int().min(1).max(3_600).default(60);

/**
 * The per-client-address request limits both services share, under the names of Lerian's chart: the overall
 * limit (`RATE_LIMIT_MAX` per `RATE_LIMIT_WINDOW_SEC`, 100 per 60 s) and the permission-route limit
 * (`RATE_LIMIT_PERMISSION_MAX` per `RATE_LIMIT_PERMISSION_WINDOW_SEC`, 60 per 60 s). `RATE_LIMIT_ENABLED=false`
 * turns both off; the token routes keep their own limit (`RATE_LIMIT_TOKEN_MAX`), which guards sign-in.
 */
export const requestRateLimitConfigShape = {
  RATE_LIMIT_ENABLED: flag,
  RATE_LIMIT_MAX: max(100),
  RATE_LIMIT_WINDOW_SEC: windowSeconds,
  RATE_LIMIT_PERMISSION_MAX: max(60),
  RATE_LIMIT_PERMISSION_WINDOW_SEC: windowSeconds,
};

/** One limit: `max` requests per `windowSeconds` per client address. */
export interface RequestRateLimit {
  readonly max: number;
  readonly windowSeconds: number;
}

/** The limits a service applies (absent: none, as in tests that build an app without them). */
export interface RequestRateLimits {
  readonly overall: RequestRateLimit;
  /** Auth's permission routes; Identity has none. */
  readonly permission?: RequestRateLimit;
}

/** The limits from parsed configuration; undefined when `RATE_LIMIT_ENABLED` is off. */
export function requestRateLimitsOf(config: {
  readonly RATE_LIMIT_ENABLED: boolean;
  readonly RATE_LIMIT_MAX: number;
  readonly RATE_LIMIT_WINDOW_SEC: number;
  readonly RATE_LIMIT_PERMISSION_MAX: number;
  readonly RATE_LIMIT_PERMISSION_WINDOW_SEC: number;
}): RequestRateLimits | undefined {
  if (!config.RATE_LIMIT_ENABLED) return undefined;
  return {
    overall: { max: config.RATE_LIMIT_MAX, windowSeconds: config.RATE_LIMIT_WINDOW_SEC },
    permission: { max: config.RATE_LIMIT_PERMISSION_MAX, windowSeconds: config.RATE_LIMIT_PERMISSION_WINDOW_SEC },
  };
}
