import type pg from 'pg';
import { canonicalName } from '../../domain/canonical-name.js';
import { ServiceError } from '../../platform/http/service-error.js';
import { writeSecurityEvent } from '../../platform/security-events.js';
import { clearSignInFailures, recordSignInFailure, signInLockSecondsLeft } from '../../directory/account-sign-in-failures.js';
import { defaultSignInLockout } from '../../platform/sign-in-lockout-config.js';
import type { Caller } from '../../platform/http/caller.js';
import type { IdentityDeps } from '../deps.js';

// `update-password` checks the current password, so it is a place to guess one: whoever holds a user's access
// token could otherwise try passwords there without limit. It meets the same per-account lockout as Auth's
// password sign-in (`sign_in_failures`, keyed by the canonical username): refused while locked, every wrong
// current password counted, the limit's last one locking sign-in and password change alike.

/** Refuses the change while the account is locked: ACCOUNT_LOCKED (429) with `Retry-After`, as sign-in answers. */
export async function assertPasswordChangeNotLocked(deps: IdentityDeps, username: string): Promise<void> {
  const seconds = await signInLockSecondsLeft(deps.pool, canonicalName(username), deps.clock.nowMs());
  if (seconds === undefined) return;
  throw new ServiceError('ACCOUNT_LOCKED', { detail: 'password change locked after repeated failures', headers: { 'Retry-After': String(seconds) } });
}

/**
 * Counts a wrong current password (atomically: concurrent failures are never lost) and records it, and the
 * lockout it may cause, as security events. The events are best effort: a failure to write them is reported and
 * cannot undo the count.
 */
export async function countWrongCurrentPassword(deps: IdentityDeps, caller: Caller, user: { id: string; username: string }, requestId: string): Promise<void> {
  const settings = deps.signInLockout ?? defaultSignInLockout;
  const failures = await recordSignInFailure(deps.pool, canonicalName(user.username), deps.clock.nowMs(), settings);
  const event = { tenantId: caller.tenantId, actor: caller.subject, outcome: 'failure' as const, targetType: 'user', targetId: user.id, clientIp: undefined, requestId, atMs: deps.clock.nowMs() };
  try {
    await writeSecurityEvent(deps.pool, { ...event, action: 'user.update-password', details: { reason: 'invalid_credentials', failures } });
    // Exactly one failure reaches the limit, however many run at once: one lockout event.
    if (failures === settings.maxFailures) await writeSecurityEvent(deps.pool, { ...event, action: 'auth.lockout', details: { failures, lockSeconds: settings.lockSeconds } });
  } catch (error) {
    deps.report({ level: 'warn', requestId, code: 'SERVICE_UNAVAILABLE', status: 503, detail: `security event of a wrong current password not recorded: ${error instanceof Error ? error.message : String(error)}` });
  }
}

/** A change that proved the current password clears the account's failures, as a successful sign-in does (in the change's transaction). */
export async function clearPasswordFailures(db: pg.ClientBase, username: string): Promise<void> {
  await clearSignInFailures(db, canonicalName(username));
}
