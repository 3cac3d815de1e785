import { availableParallelism } from 'node:os';
import { z } from 'zod';
import { ConfigError, deepFreeze } from '../platform/config-error.js';
import { decisionLogConfigShape } from '../platform/decision-log/index.js';
import { engineConfigSchema } from '../platform/engine-config.js';
import { licenseConfigShape } from '../licensing/index.js';
import { metricsConfigShape } from '../platform/metrics/index.js';
import { networkConfigShape } from '../platform/network-config.js';
import { argon2Floor } from '../platform/password-hasher.js';
import { Secret } from '../platform/secret.js';
import { requestRateLimitConfigShape } from '../platform/rate-limit-config.js';
import { signInLockoutConfigShape } from '../platform/sign-in-lockout-config.js';
import { identityProviderVariableNames, parseIdentityProviderSettings, type IdentityProviderSettings } from './identity-providers/identity-provider-config.js';
import { mfaVariableNames, parseMfaSettings } from './mfa/mfa-config.js';

/**
 * How long a new signing key is published before it signs: JWKS answers may be cached for 300 s (Cache-Control)
 * and a replica rereads the key table every 60 s, so by then every replica and every client holding a cached JWKS
 * has it.
 */
export const defaultPrepublishSeconds = 600;

const flag = (fallback: boolean) =>
  z.enum(['true', 'false', '1', '0']).default(fallback ? 'true' : 'false').transform((v) => v === 'true' || v === '1');
const seconds = (min: number, max: number, fallback: number) => z.coerce.number().int().min(min).max(max).default(fallback);

const encryptionKey = z.string().transform((value, ctx) => {
  if (Buffer.from(value, 'base64').length !== 32) {
    ctx.addIssue({ code: 'custom', message: 'must be 32 bytes, base64 encoded (openssl rand -base64 32)' });
    return z.NEVER;
  }
  return new Secret(value);
});

/** Auth's environment: the engine's variables, the contract's names where they exist, and Auth's own. */
export const authConfigSchema = engineConfigSchema.extend({
  SERVER_PORT: z.coerce.number().int().min(0).max(65_535).default(4000),
  SERVER_HOST: z.string().min(1).max(255).default('127.0.0.1'),
  /**
   * Processes serving the port (node:cluster), each a whole replica; `auto`: one per core. Read by
   * auth-service/main.ts only (the root `npm start` runs one).
   */
  AUTH_WORKERS: z
    .union([z.literal('auto'), z.coerce.number().int().min(1).max(64)])
    .default(1)
    .transform((value) => (value === 'auto' ? availableParallelism() : value)),
  MULTI_TENANT_ENABLED: flag(false),
  DEFAULT_ORGANIZATION_ID: z.uuid().optional(),
  /** Auth's public URL: the `iss` of its tokens and the base of its discovery document. */
  TOKEN_ISSUER: z.url(),
  TOKEN_AUDIENCE: z.string().min(1).max(200).default('access-manager'),
  ACCESS_TOKEN_TTL_SECONDS: seconds(60, 86_400, 3_600),
  REFRESH_TOKEN_TTL_SECONDS: seconds(60, 30 * 86_400, 86_400),
  SESSION_ABSOLUTE_TTL_SECONDS: seconds(300, 365 * 86_400, 7 * 86_400),
  /** The signing key is replaced once it has signed this long; 0 never (rotate with `npm run keys -- rotate`). */
  SIGNING_KEY_ROTATION_INTERVAL_SECONDS: z.coerce
    .number()
    .int()
    .refine((v) => v === 0 || (v >= 3_600 && v <= 3 * 365 * 86_400), '0 (off) or between 3600 and 94608000')
    .default(90 * 86_400),
  SIGNING_KEY_PREPUBLISH_SECONDS: seconds(0, 86_400, defaultPrepublishSeconds),
  ...signInLockoutConfigShape,
  SIGN_IN_TENANT_MAX_FAILURES: z.coerce.number().int().min(0).max(1_000_000).default(200),
  SIGN_IN_TENANT_WINDOW_SECONDS: seconds(1, 3_600, 60),
  ...requestRateLimitConfigShape,
  RATE_LIMIT_TOKEN_MAX: z.coerce.number().int().min(1).max(1_000_000).default(10),
  RATE_LIMIT_TOKEN_WINDOW_SECONDS: seconds(1, 3_600, 60),
  /** Per replica while Valkey is unreachable; unset: half of RATE_LIMIT_TOKEN_MAX (at least 1). */
  RATE_LIMIT_TOKEN_FALLBACK_MAX: z.coerce.number().int().min(1).max(1_000_000).optional(),
  ...networkConfigShape,
  SECRETS_ENCRYPTION_KEY: encryptionKey,
  ARGON2_MEMORY_KIB: z.coerce.number().int().min(argon2Floor.memoryCostKiB, 'below the OWASP floor (19456 KiB)').default(argon2Floor.memoryCostKiB),
  ARGON2_ITERATIONS: z.coerce.number().int().min(argon2Floor.timeCost, 'below the OWASP floor (2)').default(argon2Floor.timeCost),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  ...licenseConfigShape,
  ...metricsConfigShape,
  ...decisionLogConfigShape,
});

/** Every variable Auth reads (deploy/deploy-env.test.ts checks the deployment files against it). */
export const authConfigVariableNames: readonly string[] = [...Object.keys(authConfigSchema.shape), ...mfaVariableNames, ...identityProviderVariableNames, 'NODE_ENV'];

export type AuthConfig = z.output<typeof authConfigSchema> & { readonly mfa: ReturnType<typeof parseMfaSettings>; readonly identityProvider: IdentityProviderSettings };

/** Parses Auth's settings (MFA's `MFA_*` included), reporting every problem at once; the result is frozen. */
export function parseAuthConfig(env: Record<string, string | undefined>): AuthConfig {
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = authConfigSchema.safeParse(present);
  const problems = parsed.success ? [] : ConfigError.fromZod(parsed.error).problems.slice();
  let mfa: ReturnType<typeof parseMfaSettings> | undefined;
  try {
    mfa = parseMfaSettings(present);
  } catch (error) {
    if (error instanceof ConfigError) problems.push(...error.problems);
    else throw error;
  }
  // IDENTITY_PROVIDER and OIDC_* (identity-providers/identity-provider-config.ts).
  let identityProvider: IdentityProviderSettings | undefined;
  try {
    identityProvider = parseIdentityProviderSettings(present);
  } catch (error) {
    if (error instanceof ConfigError) problems.push(...error.problems);
    else throw error;
  }
  if (!present.DATABASE_URL) problems.push('DATABASE_URL: Auth needs PostgreSQL');
  const multiTenant = present.MULTI_TENANT_ENABLED === 'true' || present.MULTI_TENANT_ENABLED === '1';
  if (!multiTenant && !present.DEFAULT_ORGANIZATION_ID) problems.push('DEFAULT_ORGANIZATION_ID: required in single-tenant mode (MULTI_TENANT_ENABLED=false)');
  if (problems.length > 0 || !parsed.success || !mfa || !identityProvider) throw new ConfigError(problems);
  return deepFreeze({ ...parsed.data, mfa, identityProvider });
}
