export { mfaMethods, type ChallengeUser, type MfaMethod } from './challenge-store.js';
export { sendChallengeCode, verifyChallenge, type VerifiedSignIn, type VerifyInput } from './login-challenge.js';
export { mfaGateFor, type MfaChallengeAnswer, type MfaGateContext } from './mfa-gate.js';
export { parseMfaSettings } from './mfa-config.js';
