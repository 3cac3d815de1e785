export { createBuiltinIdentityProvider } from './builtin-identity-provider.js';
export { OidcIdentityProvider, type OidcIdentityProviderOptions } from './oidc-identity-provider.js';
export { parseIdentityProviderSettings, type IdentityProviderSettings } from './identity-provider-config.js';
export { identityProviderFromConfig } from './identity-provider-from-config.js';
export { upstreamProfileOf, type UpstreamProfile } from './upstream-userinfo.js';
export { UpstreamGrant } from './identity-provider.js';
export type {
  AuthenticatedApp,
  AuthenticatedSubject,
  AuthenticatedUser,
  IdentityProvider,
  UpstreamRefresh,
  UpstreamSessions,
  UpstreamTokens,
  UpstreamUserinfo,
} from './identity-provider.js';
