export { authorizationCodeGrant, type AuthorizationCodeGrantInput } from './authorization-code-grant.js';
export { authorizePath, hostedSignInRoutes, signInRateLimited } from './hosted-sign-in-routes.js';
export { browserCors, browserEndpoints } from './browser-cors.js';
