import { z } from 'zod';

const cidrList = z
  .string()
  .max(4096)
  .default('')
  .transform((value) => value.split(',').map((c) => c.trim()).filter((c) => c.length > 0));

/**
 * Where requests come from, for both services: PLATFORM_INTERNAL_CIDRS (the platform's own callers, which
 * check the end user's address themselves) and TRUSTED_PROXIES (whose `X-Forwarded-For` is believed). Entries
 * are addresses or CIDRs, comma-separated; each is parsed where the ranges are built (platform/http/client-address.ts).
 */
export const networkConfigShape = {
  PLATFORM_INTERNAL_CIDRS: cidrList,
  TRUSTED_PROXIES: cidrList,
};
