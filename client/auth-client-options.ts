import { z } from 'zod';

export interface AuthClientOptions {
  /** Auth's base URL (`PLUGIN_AUTH_ADDRESS`). */
  readonly url: string;
  /** `PLUGIN_AUTH_ENABLED`: when false the middleware lets every request through (refused when `AUTH_REQUIRED`). Default true. */
  readonly enabled?: boolean;
  /** The product's slug: resources are asked as `<product>/<resource>` (and the bare resource), as Auth scopes them. */
  readonly product?: string;
  /** `MULTI_TENANT_ENABLED`: a token must then carry `tenantId`. */
  readonly multiTenant?: boolean;
  /** `AUTH_CACHE_TTL`: how long a decision is reused, in ms; 0 turns the cache off. Default 5,000. */
  readonly cacheTtlMs?: number;
  readonly cacheMaxEntries?: number;
  /** The budget of one call to Auth, retries included. Default 2,000 ms. */
  readonly timeoutMs?: number;
  /** Attempts per call for transient failures (connection errors, 502/503/504). Default 3. */
  readonly maxAttempts?: number;
  readonly retryBaseDelayMs?: number;
  readonly maxSockets?: number;
  readonly circuitBreaker?: { readonly failureThreshold?: number; readonly openMs?: number };
  /** `TRUSTED_PROXIES`: addresses or CIDRs whose `X-Forwarded-For` is believed when deriving the end user's address. */
  readonly trustedProxies?: readonly string[];
  /** Verify tokens locally against Auth's JWKS before asking it (refuses forged tokens without a round trip). */
  readonly localVerification?: { readonly jwksUrl?: string; readonly issuer: string; readonly audience: string };
  /** Identity's base URL, for publishing the permission manifest. */
  readonly identityUrl?: string;
  /** The product's application credentials (client_credentials grant), for publishing the manifest. */
  readonly credentials?: { readonly clientId: string; readonly clientSecret: string };
  /** Injected clock (cache expiry, circuit breaker). */
  readonly nowMs?: () => number;
}

const flag = z.enum(['true', 'false', '1', '0']).transform((value) => value === 'true' || value === '1');
// Seconds as Lerian's clients write it, or a Go-style duration (`500ms`, `30s`, `1m`).
const duration = z
  .string()
  .regex(/^\d{1,9}(ms|s|m)?$/, 'seconds, or a duration such as 500ms, 30s, 1m')
  .transform((text) => {
    const value = Number.parseInt(text, 10);
    if (text.endsWith('ms')) return value;
    return text.endsWith('m') ? value * 60_000 : value * 1_000;
  });
const list = z.string().transform((text) => text.split(',').map((item) => item.trim()).filter((item) => item.length > 0));
const url = z.url({ protocol: /^https?$/ });

const environment = z
  .object({
    PLUGIN_AUTH_ENABLED: flag.default(true),
    AUTH_REQUIRED: flag.default(false),
    PLUGIN_AUTH_ADDRESS: url.optional(),
    PLUGIN_AUTH_HOST: url.optional(),
    MULTI_TENANT_ENABLED: flag.default(false),
    AUTH_CACHE_TTL: duration.optional(),
    TRUSTED_PROXIES: list.optional(),
    PLUGIN_AUTH_TIMEOUT_MS: z.coerce.number().int().min(1).max(60_000).optional(),
    PLUGIN_AUTH_PRODUCT: z.string().regex(/^[a-z0-9][a-z0-9-]{0,99}$/).optional(),
    PLUGIN_AUTH_VERIFY_LOCALLY: flag.default(false),
    PLUGIN_AUTH_ISSUER: z.string().min(1).optional(),
    PLUGIN_AUTH_AUDIENCE: z.string().min(1).default('access-manager'),
    PLUGIN_IDENTITY_ADDRESS: url.optional(),
    PLUGIN_AUTH_CLIENT_ID: z.string().min(1).optional(),
    PLUGIN_AUTH_CLIENT_SECRET: z.string().min(1).optional(),
  })
  .superRefine((env, ctx) => {
    if (!env.PLUGIN_AUTH_ENABLED && env.AUTH_REQUIRED) ctx.addIssue({ code: 'custom', message: 'AUTH_REQUIRED is set: authorization cannot be disabled', path: ['PLUGIN_AUTH_ENABLED'] });
    if (env.PLUGIN_AUTH_ENABLED && !env.PLUGIN_AUTH_ADDRESS && !env.PLUGIN_AUTH_HOST) ctx.addIssue({ code: 'custom', message: 'required when PLUGIN_AUTH_ENABLED', path: ['PLUGIN_AUTH_ADDRESS'] });
    if ((env.PLUGIN_AUTH_CLIENT_ID === undefined) !== (env.PLUGIN_AUTH_CLIENT_SECRET === undefined)) ctx.addIssue({ code: 'custom', message: 'set both or neither', path: ['PLUGIN_AUTH_CLIENT_SECRET'] });
  });

/**
 * The client's options from the environment, with the variable names of Lerian's Go client
 * (`PLUGIN_AUTH_ENABLED`, `PLUGIN_AUTH_ADDRESS` or `PLUGIN_AUTH_HOST`, `MULTI_TENANT_ENABLED`, `AUTH_CACHE_TTL`,
 * `AUTH_REQUIRED`, `TRUSTED_PROXIES`) and `PLUGIN_AUTH_*`/`PLUGIN_IDENTITY_ADDRESS` for what it does not have.
 * Every problem is reported in one error, naming variables and never their values.
 */
export function authClientOptionsFromEnv(env: Readonly<Record<string, string | undefined>> = process.env): AuthClientOptions {
  const parsed = environment.safeParse(Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined && value !== '')));
  if (!parsed.success) {
    throw new Error(`auth client configuration: ${parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ')}`);
  }
  const e = parsed.data;
  const address = e.PLUGIN_AUTH_ADDRESS ?? e.PLUGIN_AUTH_HOST ?? 'http://127.0.0.1:4000';
  return {
    url: address,
    enabled: e.PLUGIN_AUTH_ENABLED,
    multiTenant: e.MULTI_TENANT_ENABLED,
    ...(e.AUTH_CACHE_TTL !== undefined ? { cacheTtlMs: e.AUTH_CACHE_TTL } : {}),
    ...(e.TRUSTED_PROXIES ? { trustedProxies: e.TRUSTED_PROXIES } : {}),
    ...(e.PLUGIN_AUTH_TIMEOUT_MS ? { timeoutMs: e.PLUGIN_AUTH_TIMEOUT_MS } : {}),
    ...(e.PLUGIN_AUTH_PRODUCT ? { product: e.PLUGIN_AUTH_PRODUCT } : {}),
    ...(e.PLUGIN_AUTH_VERIFY_LOCALLY
      ? { localVerification: { issuer: e.PLUGIN_AUTH_ISSUER ?? new URL(address).origin, audience: e.PLUGIN_AUTH_AUDIENCE } }
      : {}),
    ...(e.PLUGIN_IDENTITY_ADDRESS ? { identityUrl: e.PLUGIN_IDENTITY_ADDRESS } : {}),
    ...(e.PLUGIN_AUTH_CLIENT_ID && e.PLUGIN_AUTH_CLIENT_SECRET ? { credentials: { clientId: e.PLUGIN_AUTH_CLIENT_ID, clientSecret: e.PLUGIN_AUTH_CLIENT_SECRET } } : {}),
  };
}
