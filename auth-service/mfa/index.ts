export { mfaMethods, type ChallengeUser, type MfaMethod } from './challenge-store.js';
export { MfaLogin, type MfaCodeDelivery, type VerifiedSignIn, type VerifyInput } from './login-challenge.js';
export { MfaGate, type MfaChallengeAnswer, type MfaGateContext } from './mfa-gate.js';
export { parseMfaSettings, type MfaSettings } from './mfa-config.js';
