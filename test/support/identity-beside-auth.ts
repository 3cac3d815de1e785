// Identity on an Auth harness's own database, trusting the tokens that Auth signs: a cross-service flow in one
// process (sign in at Auth, then call Identity with the token), where both services read and write the same rows.
import type { Express } from 'express';
import { createIdentityApp } from '../../identity-service/app.js';
import type { IdentityDeps } from '../../identity-service/deps.js';
import type { AuthHarness } from './auth-harness.js';

/** The Identity app over `h`'s schema, engine, secrets and token verifier; `overrides` replace any dependency (a clock, a sender). */
export function identityBesideAuth(h: AuthHarness, overrides: Partial<IdentityDeps> = {}): Express {
  const deps: IdentityDeps = {
    pool: h.deps.pool,
    engine: h.deps.engine,
    tokens: h.deps.tokens,
    tenancy: h.deps.tenancy,
    platformTenantId: h.defaultTenantId,
    passwords: h.deps.passwords,
    // The same box: a TOTP secret Identity seals at enrolment is the one Auth opens at sign-in.
    secrets: h.deps.secrets,
    report: h.deps.report,
    fetch: globalThis.fetch,
    clock: h.deps.clock,
    signInLockout: h.deps.settings.signIn,
    ...overrides,
  };
  return createIdentityApp(deps);
}
