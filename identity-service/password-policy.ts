// Moved to platform/ so the bootstrap reconciler holds the first administrator's password to the same rules.
export * from '../platform/password-policy.js';
