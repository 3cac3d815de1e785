import { z } from 'zod';
import { ConfigError } from '../../platform/config-error.js';
import { Secret } from '../../platform/secret.js';

/** Which identity provider Auth uses, from `IDENTITY_PROVIDER` and the `OIDC_*` variables. */
export type IdentityProviderSettings =
  | { readonly kind: 'builtin' }
  | {
      readonly kind: 'oidc';
      readonly issuerUrl: string;
      readonly clientId: string;
      readonly clientSecret: Secret;
      readonly usernameClaim: string;
      readonly scope: string;
      readonly timeoutSeconds: number;
      readonly allowInsecureRequests: boolean;
    };

const envSchema = z.object({
  IDENTITY_PROVIDER: z.enum(['builtin', 'oidc']).default('builtin'),
  OIDC_ISSUER_URL: z.url().max(2_048).optional(),
  OIDC_CLIENT_ID: z.string().min(1).max(256).optional(),
  OIDC_CLIENT_SECRET: z
    .string()
    .min(1)
    .max(1_024)
    .transform((value) => new Secret(value))
    .optional(),
  OIDC_USERNAME_CLAIM: z.string().min(1).max(100).default('preferred_username'),
  // offline_access: the provider must hand out a refresh token, which Auth forwards at refresh.
  OIDC_SCOPE: z
    .string()
    .max(1_000)
    .regex(/^[\x21\x23-\x5B\x5D-\x7E]+( [\x21\x23-\x5B\x5D-\x7E]+)*$/, 'space-separated scope tokens')
    .refine((scope) => scope.split(' ').includes('openid'), 'must include openid')
    .default('openid profile email offline_access'),
  OIDC_TIMEOUT_SECONDS: z.coerce.number().int().min(1).max(60).default(5),
  OIDC_ALLOW_INSECURE_REQUESTS: z
    .enum(['true', 'false', '1', '0'])
    .default('false')
    .transform((v) => v === 'true' || v === '1'),
});

/** The variables read here (for the deployment files' check against the config). */
export const identityProviderVariableNames: readonly string[] = Object.keys(envSchema.shape);

/**
 * Auth's identity provider settings; throws a ConfigError listing every problem (one per missing `OIDC_*`
 * variable in `oidc` mode; plain-http providers refused when `NODE_ENV=production`). Other variables are ignored.
 *
 * @example
 * const idp = parseIdentityProviderSettings(process.env); // { kind: 'builtin' } by default
 */
export function parseIdentityProviderSettings(env: Readonly<Record<string, string | undefined>>): IdentityProviderSettings {
  const picked = Object.fromEntries(Object.keys(envSchema.shape).map((name) => [name, env[name] === '' ? undefined : env[name]]));
  const parsed = envSchema.safeParse(picked);
  if (!parsed.success) throw ConfigError.fromZod(parsed.error);
  const e = parsed.data;
  if (e.IDENTITY_PROVIDER === 'builtin') return Object.freeze({ kind: 'builtin' });
  const problems: string[] = [];
  if (!e.OIDC_ISSUER_URL) problems.push('OIDC_ISSUER_URL: required when IDENTITY_PROVIDER=oidc (the provider issuer, discovery is read from it)');
  if (!e.OIDC_CLIENT_ID) problems.push("OIDC_CLIENT_ID: required when IDENTITY_PROVIDER=oidc (Access Manager's client at the provider)");
  if (!e.OIDC_CLIENT_SECRET) problems.push('OIDC_CLIENT_SECRET: required when IDENTITY_PROVIDER=oidc');
  if (e.OIDC_ALLOW_INSECURE_REQUESTS && env.NODE_ENV === 'production') {
    problems.push('OIDC_ALLOW_INSECURE_REQUESTS: plain-http identity providers are refused with NODE_ENV=production');
  }
  if (e.OIDC_ISSUER_URL?.startsWith('http:') && !e.OIDC_ALLOW_INSECURE_REQUESTS) {
    problems.push('OIDC_ISSUER_URL: an http issuer needs OIDC_ALLOW_INSECURE_REQUESTS=true (never in production)');
  }
  if (problems.length > 0 || !e.OIDC_ISSUER_URL || !e.OIDC_CLIENT_ID || !e.OIDC_CLIENT_SECRET) throw new ConfigError(problems);
  return Object.freeze({
    kind: 'oidc',
    issuerUrl: e.OIDC_ISSUER_URL,
    clientId: e.OIDC_CLIENT_ID,
    clientSecret: e.OIDC_CLIENT_SECRET,
    usernameClaim: e.OIDC_USERNAME_CLAIM,
    scope: e.OIDC_SCOPE,
    timeoutSeconds: e.OIDC_TIMEOUT_SECONDS,
    allowInsecureRequests: e.OIDC_ALLOW_INSECURE_REQUESTS,
  });
}
