import { z } from 'zod';
import { ConfigError, deepFreeze } from '../platform/config-error.js';
import { engineConfigSchema } from '../platform/engine-config.js';
import { licenseConfigShape } from '../licensing/index.js';
import { metricsConfigShape } from '../platform/metrics/index.js';
import { networkConfigShape } from '../platform/network-config.js';
import { requestRateLimitConfigShape } from '../platform/rate-limit-config.js';
import { argon2Floor } from '../platform/password-hasher.js';
import { Secret } from '../platform/secret.js';
import { signInLockoutConfigShape } from '../platform/sign-in-lockout-config.js';

const flag = (fallback: boolean) =>
  z.enum(['true', 'false', '1', '0']).default(fallback ? 'true' : 'false').transform((v) => v === 'true' || v === '1');

const encryptionKey = z
  .string()
  .transform((value, ctx) => {
    const key = Buffer.from(value, 'base64');
    if (key.length !== 32) {
      ctx.addIssue({ code: 'custom', message: 'must be 32 bytes, base64 encoded (openssl rand -base64 32)' });
      return z.NEVER;
    }
    return new Secret(value);
  });

/** Identity's environment: the engine's variables plus its own. */
export const identityConfigSchema = engineConfigSchema
  .extend({
    SERVER_PORT: z.coerce.number().int().min(0).max(65_535).default(4001),
    SERVER_HOST: z.string().min(1).max(255).default('127.0.0.1'),
    MULTI_TENANT_ENABLED: flag(false),
    DEFAULT_ORGANIZATION_ID: z.uuid().optional(),
    PLATFORM_ORGANIZATION_ID: z.uuid().optional(),
    TOKEN_ISSUER: z.url(),
    TOKEN_AUDIENCE: z.string().min(1).max(200).default('access-manager'),
    JWKS_URL: z.url().optional(),
    SECRETS_ENCRYPTION_KEY: encryptionKey,
    ARGON2_MEMORY_KIB: z.coerce.number().int().min(argon2Floor.memoryCostKiB, 'below the OWASP floor (19456 KiB)').default(argon2Floor.memoryCostKiB),
    ARGON2_ITERATIONS: z.coerce.number().int().min(argon2Floor.timeCost, 'below the OWASP floor (2)').default(argon2Floor.timeCost),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    // A wrong current password at update-password counts into Auth's sign-in lockout: the same limits.
    ...signInLockoutConfigShape,
    ...networkConfigShape,
    ...requestRateLimitConfigShape,
    ...licenseConfigShape,
    ...metricsConfigShape,
  });

/** Every variable Identity reads (deploy/deploy-env.test.ts checks the deployment files against it); NODE_ENV is express's. */
export const identityConfigVariableNames: readonly string[] = [...Object.keys(identityConfigSchema.shape), 'NODE_ENV'];

export type IdentityConfig = z.output<typeof identityConfigSchema>;

export function parseIdentityConfig(env: Record<string, string | undefined>): IdentityConfig {
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = identityConfigSchema.safeParse(present);
  // Rules across variables are checked on the raw values too, so one run reports every problem.
  const multiTenant = present.MULTI_TENANT_ENABLED === 'true' || present.MULTI_TENANT_ENABLED === '1';
  const problems = parsed.success ? [] : ConfigError.fromZod(parsed.error).problems.slice();
  if (!present.DATABASE_URL) problems.push('DATABASE_URL: Identity needs PostgreSQL');
  if (!multiTenant && !present.DEFAULT_ORGANIZATION_ID) problems.push('DEFAULT_ORGANIZATION_ID: required in single-tenant mode (MULTI_TENANT_ENABLED=false)');
  if (multiTenant && !present.PLATFORM_ORGANIZATION_ID) {
    problems.push('PLATFORM_ORGANIZATION_ID: required in multi-tenant mode (the organization whose administrators manage organizations)');
  }
  if (problems.length > 0 || !parsed.success) throw new ConfigError(problems);
  return deepFreeze(parsed.data);
}
