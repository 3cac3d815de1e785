export { issueUserSession } from './issue-session.js';
export { createTokenRateLimit, tokenRoutePaths, type TokenRateLimitOptions } from './token-rate-limit.js';
export { TokenService, issueSession, type ClientCredentials, type PasswordGrantOutcome, type TokenAnswer } from './token-service.js';
export { TokenIssuer, type IssuedToken, type TokenSubject } from './token-issuer.js';
