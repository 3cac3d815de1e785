export { createBuiltinIdentityProvider } from './builtin-identity-provider.js';
export { OidcIdentityProvider, type OidcIdentityProviderOptions } from './oidc-identity-provider.js';
export type { AuthenticatedApp, AuthenticatedSubject, AuthenticatedUser, IdentityProvider } from './identity-provider.js';
