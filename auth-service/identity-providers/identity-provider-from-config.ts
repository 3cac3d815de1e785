import type pg from 'pg';
import type { Clock } from '../../engine/index.js';
import type { SecretBox } from '../../platform/secret-box.js';
import type { IdentityProviderSettings } from './identity-provider-config.js';
import type { IdentityProvider } from './identity-provider.js';
import { OidcIdentityProvider } from './oidc-identity-provider.js';

/**
 * The identity provider the settings name, for `AuthDeps.identityProvider`: undefined for `builtin` (wireAuth
 * then uses Identity's tables), an `OidcIdentityProvider` for `oidc`. Nothing is fetched here: discovery runs
 * at the first sign-in or readiness check.
 *
 * @example
 * createAuthApp(wireAuth({ ...deps, identityProvider: identityProviderFromConfig(config.identityProvider, { pool, secrets, clock }) }));
 */
export function identityProviderFromConfig(settings: IdentityProviderSettings, deps: { pool: pg.Pool; secrets: SecretBox; clock: Clock }): IdentityProvider | undefined {
  if (settings.kind === 'builtin') return undefined;
  return new OidcIdentityProvider({
    issuerUrl: settings.issuerUrl,
    clientId: settings.clientId,
    clientSecret: settings.clientSecret.reveal(),
    usernameClaim: settings.usernameClaim,
    scope: settings.scope,
    timeoutSeconds: settings.timeoutSeconds,
    allowInsecureRequests: settings.allowInsecureRequests,
    pool: deps.pool,
    secrets: deps.secrets,
    clock: deps.clock,
  });
}
