// The product-side client of Access Manager: `import { createAuthClient, requirePermission } from '@access-manager/client'`.
export { createAuthClient, type AuthClient, type Check, type CheckOptions, type Decision, type TokenIdentity } from './auth-client.js';
export { authClientOptionsFromEnv, type AuthClientOptions } from './auth-client-options.js';
export { CircuitBreaker, type CircuitBreakerOptions, type CircuitState } from './circuit-breaker.js';
export { createClientAddress } from './client-address.js';
export { AuthClientError, isAuthClientError, type AuthClientErrorKind } from './errors.js';
export type { ManifestResult, PermissionManifest } from './manifest.js';
export { clientProblems } from './problem.js';
export { authOf, requirePermission, type AuthenticatedRequest, type Middleware, type RequestAuth } from './require-permission.js';
