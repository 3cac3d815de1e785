export { AuthorizationCodeGrant, type AuthorizationCodeGrantInput, type AuthorizationCodeGrantParts } from './authorization-code-grant.js';
export { authorizePath, hostedSignInRoutes, signInRateLimited, type HostedSignInParts } from './hosted-sign-in-routes.js';
export { browserCors, browserEndpoints } from './browser-cors.js';
export { signInRecordsIn, type SignInRecords } from './sign-in-records.js';
