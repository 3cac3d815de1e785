import { z } from 'zod';
import { ConfigError } from '../../platform/config-error.js';
import { redactedBytes } from '../../platform/secret.js';

const seconds = (fallback: number, max: number) => z.coerce.number().int().min(1).max(max).default(fallback);

/** Auth's limits on MFA sign-ins (an organization's own settings may only tighten them). */
export interface MfaSettings {
  readonly sessionTtlSeconds: number; // 300
  readonly maxAttempts: number; // 5
  readonly maxResends: number; // 3
  readonly rememberTtlSeconds: number; // 30 days
  /** HMAC key of mfaToken (MFA_SECRET). */
  readonly tokenSecret: Buffer;
}

/** The MFA variables of Lerian's chart, with the contract's defaults (300 s, 5 attempts, 3 resends, 30 days). */
const mfaEnvSchema = z.object({
  MFA_SESSION_TTL_SEC: seconds(300, 3600),
  MFA_REMEMBER_TTL_SEC: z.coerce.number().int().min(0).max(365 * 86_400).default(30 * 86_400),
  MFA_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(10).default(5),
  MFA_MAX_RESEND_ATTEMPTS: z.coerce.number().int().min(0).max(10).default(3),
  // The HMAC key of mfaToken and of sent codes: no default.
  MFA_SECRET: z.string().min(32, 'at least 32 characters').max(512),
});

/** The variables read here (for the deployment files' check against the config). */
export const mfaVariableNames: readonly string[] = Object.keys(mfaEnvSchema.shape);

/**
 * Auth's MFA settings from the environment; throws a ConfigError listing every problem. Unknown variables are
 * ignored (the environment holds everything else too).
 *
 * @example
 * const mfa = parseMfaSettings(process.env);
 */
export function parseMfaSettings(env: Readonly<Record<string, string | undefined>>): MfaSettings {
  const picked = Object.fromEntries(Object.keys(mfaEnvSchema.shape).map((name) => [name, env[name] === '' ? undefined : env[name]]));
  const parsed = mfaEnvSchema.safeParse(picked);
  if (!parsed.success) throw ConfigError.fromZod(parsed.error);
  const e = parsed.data;
  return Object.freeze({
    sessionTtlSeconds: e.MFA_SESSION_TTL_SEC,
    maxAttempts: e.MFA_MAX_ATTEMPTS,
    maxResends: e.MFA_MAX_RESEND_ATTEMPTS,
    rememberTtlSeconds: e.MFA_REMEMBER_TTL_SEC,
    tokenSecret: redactedBytes(Buffer.from(e.MFA_SECRET, 'utf8')),
  });
}
