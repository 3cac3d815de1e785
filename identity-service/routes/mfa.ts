import { timingSafeEqual } from 'node:crypto';
import type pg from 'pg';
import { z } from 'zod';
import type { Caller } from '../../platform/http/caller.js';
import { defineRoute, type AnyRoute } from '../../platform/http/route.js';
import { ServiceError } from '../../platform/http/service-error.js';
import { findRecoveryCode, generateRecoveryCodes, hashRecoveryCode } from '../../domain/recovery-codes.js';
import { mfaAttemptChange, mfaLockSecondsLeft, type CodeOutcome, type MfaAttemptState } from '../../domain/mfa-attempts.js';
import { checkTotp, createTotpSecret, totpUri } from '../../domain/totp.js';
import type { IdentityDeps } from '../deps.js';
import { assertVersion, etagOf } from '../etag.js';
import { checkEmailedCode, issueEmailedCode, type DeliverCode, type EmailedCodeLimits } from '../mfa/emailed-code.js';
import { checkFactorProof, factorProofOf, type FactorProofCheck } from '../mfa/factor-proof.js';
import { openPendingState, sealPendingState, totpSecretBox, type PendingEnrolment, type PendingMfaState } from '../mfa/pending-state.js';
import { clearUserMfa, findUserMfa, lockUserMfa, mfaMethods, updateUserMfa, type MfaMethod, type UserMfa, type UserMfaChange } from '../../directory/mfa-factors.js';
import { findUser, findUserContact, type UserContact } from '../../directory/users.js';
import { findMfaSettings, lockMfaSettings, updateMfaSettings, type MfaSettingsRow } from '../store/mfa-store.js';
import { assertMayChangeCredentials, type CredentialsOwner } from '../no-escalation.js';
import { subjects } from '../../domain/policy-lines.js';
import { revisionHeaders, runWrite, type WriteContext } from '../write-transaction.js';

/** The issuer shown by authenticator apps next to the account. */
const totpIssuer = 'Access Manager';

const userParams = z.object({ id: z.uuid() }).strict();
const mfaType = z.enum(mfaMethods);
const sixDigits = z.string().regex(/^[0-9]{6}$/, 'six digits');
const recoveryCode = z.string().min(1).max(64).regex(/^[A-Za-z0-9 -]+$/, 'letters, digits and dashes');
const totpSecretInput = z.string().min(16).max(128).regex(/^[A-Za-z2-7= ]+$/, 'a Base32 secret');
/** Proof of a current factor: a passcode, a code from `/mfa/challenge` (or `/mfa/disable/challenge`), or a recovery code. */
const proofFields = { passcode: sixDigits.optional(), emailCode: sixDigits.optional(), recoveryCode: recoveryCode.optional() };
const proofCount = (b: { passcode?: string | undefined; emailCode?: string | undefined; recoveryCode?: string | undefined }) =>
  [b.passcode, b.emailCode, b.recoveryCode].filter((v) => v !== undefined).length;

const mfaStatus = z
  .object({
    enabled: z.boolean(),
    preferredType: mfaType.nullable(),
    methods: z.array(mfaType),
    totpEnabled: z.boolean(),
    emailEnabled: z.boolean(),
    smsEnabled: z.boolean(),
  })
  .meta({ id: 'MfaStatus' });

const mfaSetup = z
  .object({
    secret: z.string().optional(),
    url: z.string().optional(),
    recoveryCodes: z.array(z.string()),
    mfaType,
    enabled: z.literal(false),
  })
  .meta({ id: 'MfaSetup', description: 'The only answer that ever carries the TOTP secret and the recovery codes' });

const mfaSettingsBody = z
  .object({
    required: z.boolean(),
    allowedMethods: z
      .array(mfaType)
      .min(1)
      .max(mfaMethods.length)
      .refine((methods) => new Set(methods).size === methods.length, 'each method once'),
    codeTtlSeconds: z.number().int().min(60).max(900),
    maxAttempts: z.number().int().min(1).max(10),
    maxResends: z.number().int().min(0).max(10),
    rememberDeviceDays: z.number().int().min(0).max(365),
  })
  .strict();
const mfaSettings = mfaSettingsBody.extend({ updatedAt: z.string() }).meta({ id: 'MfaSettings' });

type MfaStatus = z.infer<typeof mfaStatus>;

function statusOf(row: UserMfa): MfaStatus {
  const enabled: Record<MfaMethod, boolean> = { app: row.totpEnabled, email: row.emailEnabled, sms: row.smsEnabled };
  const methods = mfaMethods.filter((method) => enabled[method]);
  const preferred = row.preferredType !== null && enabled[row.preferredType] ? row.preferredType : (methods[0] ?? null);
  return { enabled: methods.length > 0, preferredType: preferred, methods, totpEnabled: row.totpEnabled, emailEnabled: row.emailEnabled, smsEnabled: row.smsEnabled };
}

function toSettings(row: MfaSettingsRow): z.infer<typeof mfaSettings> {
  return {
    required: row.required,
    allowedMethods: row.allowed_methods,
    codeTtlSeconds: row.code_ttl_seconds,
    maxAttempts: row.max_attempts,
    maxResends: row.max_resends,
    rememberDeviceDays: row.remember_device_days,
    updatedAt: row.updated_at.toISOString(),
  };
}

function limitsOf(settings: MfaSettingsRow): EmailedCodeLimits {
  return { ttlSeconds: settings.code_ttl_seconds, maxAttempts: settings.max_attempts, maxResends: settings.max_resends };
}

function isSelf(caller: Caller, userId: string): boolean {
  return caller.kind === 'user' && caller.id.toLowerCase() === userId.toLowerCase();
}

/** The user of the path, in the caller's organization only: another tenant's user is not found (404). */
async function userInTenant(deps: IdentityDeps, caller: Caller, userId: string): Promise<UserContact> {
  const user = await findUserContact(deps.pool, caller.tenantId, userId.toLowerCase());
  if (!user) throw new ServiceError('NOT_FOUND');
  return user;
}

/** Self-service: only the user may set up, verify, enable, prefer or disable their own factors (never an administrator). */
async function selfUser(deps: IdentityDeps, caller: Caller, userId: string): Promise<UserContact> {
  const user = await userInTenant(deps, caller, userId);
  if (!isSelf(caller, user.id)) throw new ServiceError('FORBIDDEN', { detail: `${caller.subject} may manage only their own MFA` });
  return user;
}

/** The user whose factors a write removes, as the credentials rule reads it. */
async function credentialsOwner(db: pg.ClientBase, orgId: string, userId: string): Promise<CredentialsOwner> {
  const row = await findUser(db, orgId, userId);
  if (!row) throw new ServiceError('NOT_FOUND');
  return { subject: subjects.user(row.id), builtin: row.builtin };
}

function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given.replace(/[\s=]/g, '').toUpperCase());
  const b = Buffer.from(expected.replace(/=/g, '').toUpperCase());
  return a.length === b.length && timingSafeEqual(a, b);
}

function requireSender(deps: IdentityDeps): DeliverCode {
  if (!deps.deliverMfaCode) throw new ServiceError('SERVICE_UNAVAILABLE', { message: 'no e-mail sender is configured', detail: 'MFA code sender not configured' });
  return deps.deliverMfaCode;
}

async function deliver(send: DeliverCode, tenantId: string, email: string, code: string): Promise<void> {
  try {
    await send({ tenantId, to: email, code });
  } catch (error) {
    const reason = error instanceof Error ? error.message.split(code).join('[code]') : 'unknown';
    throw new ServiceError('PROVIDER_SEND_FAILED', { detail: `MFA code delivery failed: ${reason}` });
  }
}

/** A refused code, after the transaction committed what the attempt spent. */
function invalidCode(field: string, reason: string): ServiceError {
  return new ServiceError('MFA_INVALID_CODE', { field, detail: reason });
}

const notEnrolled = (message: string) => new ServiceError('MFA_NOT_ENROLLED', { message, field: 'body.mfaType' });

function attemptStateOf(row: UserMfa): MfaAttemptState {
  return { failed_attempts: row.failedAttempts, locked_until: row.lockedUntil };
}

/** Code checks are refused while the user is locked out after too many wrong one-time codes (SECURITY-CHECKLIST E2). */
function assertNotLocked(row: UserMfa, nowMs: number): void {
  const seconds = mfaLockSecondsLeft(attemptStateOf(row), nowMs);
  if (seconds === undefined) return;
  throw new ServiceError('RATE_LIMITED', { message: 'too many wrong codes; try again later', headers: { 'Retry-After': String(seconds) }, detail: `MFA locked for ${seconds} s more` });
}

/** What a one-time code's outcome does to the user's wrong-code count, read and written under the row lock; a lock it sets is audited. */
async function codeAttempts(tx: WriteContext, row: UserMfa, outcome: CodeOutcome, nowMs: number): Promise<UserMfaChange> {
  const { max_attempts: maxAttempts } = await findMfaSettings(tx.client, tx.tenantId);
  const change = mfaAttemptChange(attemptStateOf(row), outcome, maxAttempts, nowMs);
  if (change.locked_until) tx.audit({ action: 'mfa.lock', targetType: 'user', targetId: row.userId, after: { lockedUntil: change.locked_until.toISOString(), maxAttempts } });
  return {
    ...(change.failed_attempts === undefined ? {} : { failedAttempts: change.failed_attempts }),
    ...(change.locked_until === undefined ? {} : { lockedUntil: change.locked_until }),
  };
}

async function saveAttempts(tx: WriteContext, userId: string, change: UserMfaChange): Promise<void> {
  if (Object.keys(change).length > 0) await updateUserMfa(tx.client, tx.tenantId, userId, change);
}

/**
 * Checks a proof of a current factor under the user's row lock (refused while locked). A refusal stores what it
 * spent (a wrong code's count, an e-mailed code's attempt) and is returned, so the caller's transaction commits
 * it; an accepted proof is returned unspent: the caller spends it with its own change.
 */
async function proveFactor(deps: IdentityDeps, tx: WriteContext, row: UserMfa, proof: NonNullable<ReturnType<typeof factorProofOf>>, nowMs: number): Promise<FactorProofCheck> {
  assertNotLocked(row, nowMs);
  const pending = openPendingState(deps.secrets, row);
  const totpSecret = row.totpEnabled && row.totpSecretCiphertext !== null ? totpSecretBox.open(deps.secrets, row.userId, row.totpSecretCiphertext) : undefined;
  const check = await checkFactorProof({ row, pending, totpSecret, proof, nowMs });
  const attempts = check.counted ? await codeAttempts(tx, row, check.counted, nowMs) : {};
  if (!check.accepted) await updateUserMfa(tx.client, tx.tenantId, row.userId, { totpPendingCiphertext: sealPendingState(deps.secrets, row.userId, check.pending), ...attempts });
  else await saveAttempts(tx, row.userId, attempts);
  return check;
}

/** The columns that spend an accepted proof: the TOTP step it used, the recovery code it used. */
function spentProof(row: UserMfa, check: FactorProofCheck): UserMfaChange {
  return {
    ...(check.totpStep === undefined ? {} : { lastTotpStep: check.totpStep }),
    ...(check.recoveryCodeIndex === undefined ? {} : { recoveryCodeHashes: row.recoveryCodeHashes.filter((_, index) => index !== check.recoveryCodeIndex) }),
  };
}

/** Sends the e-mailed code that proves a current factor (kept as the pending `disableCode`; a new one replaces it). */
function proofChallengeRoute(deps: IdentityDeps, path: string, summary: string): AnyRoute {
  return defineRoute({
    method: 'post',
    path,
    summary,
    tags: ['mfa'],
    auth: 'token',
    params: userParams,
    responses: { 200: { description: 'A code was sent', schema: z.object({ message: z.string(), expiresIn: z.number().int() }) } },
    async handler({ params, caller, requestId }) {
      const user = await selfUser(deps, caller, params.id);
      const send = requireSender(deps);
      const settings = await findMfaSettings(deps.pool, caller.tenantId);
      const { value: code } = await runWrite(deps, caller, requestId, async (tx) => {
        const row = await lockUserMfa(tx.client, tx.tenantId, user.id);
        if (!statusOf(row).enabled) throw notEnrolled('MFA is not enabled');
        const pending = openPendingState(deps.secrets, row);
        const issued = issueEmailedCode(pending.disableCode, limitsOf(settings), deps.nowMs());
        if (!issued.ok) throw new ServiceError('RATE_LIMITED', { message: 'too many codes sent; wait for the last one to expire' });
        await updateUserMfa(tx.client, tx.tenantId, user.id, { totpPendingCiphertext: sealPendingState(deps.secrets, user.id, { ...pending, disableCode: issued.state }) });
        return issued.code;
      });
      await deliver(send, caller.tenantId, user.email, code);
      return { body: { message: 'a code was sent to the e-mail address on file', expiresIn: settings.code_ttl_seconds } };
    },
  });
}

export function mfaRoutes(deps: IdentityDeps): AnyRoute[] {
  return [
    defineRoute({
      method: 'get',
      path: '/v1/mfa/settings',
      summary: "The caller's organization MFA settings",
      tags: ['mfa'],
      auth: 'token',
      permission: { resource: 'mfa', action: 'get' },
      responses: { 200: { description: 'The settings (the defaults until changed)', schema: mfaSettings } },
      async handler({ caller }) {
        const row = await findMfaSettings(deps.pool, caller.tenantId);
        return { body: toSettings(row), headers: { ETag: etagOf(row.version) } };
      },
    }),
    defineRoute({
      method: 'put',
      path: '/v1/mfa/settings',
      summary: "Replace the caller's organization MFA settings (If-Match for optimistic concurrency)",
      tags: ['mfa'],
      auth: 'token',
      permission: { resource: 'mfa', action: 'patch' },
      body: mfaSettingsBody,
      responses: { 200: { description: 'The new settings', schema: mfaSettings } },
      async handler({ body, caller, requestId, req }) {
        const { value: row, policyRevision } = await runWrite(deps, caller, requestId, async (tx) => {
          const current = await lockMfaSettings(tx.client, tx.tenantId);
          assertVersion(req, current.version);
          const updated = await updateMfaSettings(tx.client, tx.tenantId, {
            required: body.required,
            allowed_methods: mfaMethods.filter((method) => body.allowedMethods.includes(method)),
            code_ttl_seconds: body.codeTtlSeconds,
            max_attempts: body.maxAttempts,
            max_resends: body.maxResends,
            remember_device_days: body.rememberDeviceDays,
          });
          tx.audit({ action: 'mfa.settings.update', targetType: 'organization', targetId: tx.tenantId, before: toSettings(current), after: toSettings(updated) });
          return updated;
        });
        return { body: toSettings(row), headers: { ETag: etagOf(row.version), ...revisionHeaders(policyRevision) } };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/v1/users/{id}/mfa',
      summary: "A user's MFA status (the user, or a caller allowed `mfa` `get`)",
      tags: ['mfa'],
      auth: 'token',
      params: userParams,
      permission: ({ caller, params }) => (isSelf(caller, params.id) ? undefined : { resource: 'mfa', action: 'get' }),
      responses: { 200: { description: 'The status; never a secret', schema: mfaStatus } },
      async handler({ params, caller }) {
        const user = await userInTenant(deps, caller, params.id);
        return { body: statusOf(await findUserMfa(deps.pool, caller.tenantId, user.id)) };
      },
    }),
    defineRoute({
      method: 'post',
      path: '/v1/users/{id}/mfa/setup',
      summary:
        'Start setting up a factor: a new TOTP secret (app) or an e-mailed code (email), and new recovery codes. While a factor is enabled, one proof of it is required: passcode, emailCode (from /mfa/challenge) or recoveryCode',
      tags: ['mfa'],
      auth: 'token',
      params: userParams,
      body: z
        .object({ mfaType, ...proofFields })
        .strict()
        .refine((b) => proofCount(b) <= 1, 'at most one of passcode, emailCode, recoveryCode'),
      responses: { 200: { description: 'The pending factor; the secret and recovery codes are shown only here', schema: mfaSetup } },
      async handler({ params, body, caller, requestId }) {
        const user = await selfUser(deps, caller, params.id);
        const settings = await findMfaSettings(deps.pool, caller.tenantId);
        if (!settings.allowed_methods.includes(body.mfaType)) throw new ServiceError('MFA_METHOD_NOT_ALLOWED', { field: 'body.mfaType' });
        if (body.mfaType === 'sms') throw new ServiceError('SERVICE_UNAVAILABLE', { message: 'no SMS sender is configured', detail: 'SMS factor has no sender or phone number yet' });
        const send = body.mfaType === 'email' ? requireSender(deps) : undefined;
        const proof = factorProofOf(body);
        const recoveryCodes = generateRecoveryCodes();
        const secret = body.mfaType === 'app' ? createTotpSecret() : undefined;
        const nowMs = deps.nowMs();
        // A refusal of the proof is returned, not thrown, so what it spent (a wrong code's count) commits.
        const { value: outcome, policyRevision } = await runWrite(deps, caller, requestId, async (tx) => {
          const row = await lockUserMfa(tx.client, tx.tenantId, user.id);
          let pending: PendingMfaState;
          let spent: UserMfaChange = {};
          if (statusOf(row).enabled) {
            // Whoever holds only the access token must not swap in a factor of their own, nor add one beside it.
            if (!proof) throw new ServiceError('MFA_PROOF_REQUIRED', { detail: 'setup while a factor is enabled, without proof' });
            const check = await proveFactor(deps, tx, row, proof, nowMs);
            if (!check.accepted) return { refused: check, code: undefined };
            pending = check.pending;
            spent = spentProof(row, check);
          } else {
            pending = openPendingState(deps.secrets, row);
          }
          let enrolment: PendingEnrolment = { method: body.mfaType, totpSecret: secret, lastStep: 0, recoveryCodeHashes: recoveryCodes.map(hashRecoveryCode), verified: false };
          let code: string | undefined;
          if (body.mfaType === 'email') {
            const previous = pending.enrolment?.method === 'email' ? pending.enrolment.emailCode : undefined;
            const issued = issueEmailedCode(previous, limitsOf(settings), nowMs);
            if (!issued.ok) throw new ServiceError('RATE_LIMITED', { message: 'too many codes sent; wait for the last one to expire' });
            enrolment = { ...enrolment, emailCode: issued.state };
            code = issued.code;
          }
          // Replaces a pending enrolment; an enabled factor stays in force until this one is enabled.
          await updateUserMfa(tx.client, tx.tenantId, user.id, { totpPendingCiphertext: sealPendingState(deps.secrets, user.id, { ...pending, enrolment }), ...spent });
          tx.audit({ action: 'mfa.setup', targetType: 'user', targetId: user.id, after: { mfaType: body.mfaType, ...(statusOf(row).enabled && proof ? { proof: Object.keys(proof)[0] } : {}) } });
          return { refused: undefined, code };
        });
        if (outcome.refused) throw invalidCode(outcome.refused.field, outcome.refused.reason ?? 'refused');
        if (send && outcome.code !== undefined) await deliver(send, caller.tenantId, user.email, outcome.code);
        const totp = secret === undefined ? {} : { secret, url: totpUri({ secret, issuer: totpIssuer, accountName: user.username }) };
        return {
          body: { ...totp, recoveryCodes, mfaType: body.mfaType, enabled: false as const },
          headers: { 'Cache-Control': 'no-store', ...revisionHeaders(policyRevision) },
        };
      },
    }),
    defineRoute({
      method: 'post',
      path: '/v1/users/{id}/mfa/verify',
      summary: 'Verify a code of the pending factor (or of the enabled authenticator); each code is accepted once',
      tags: ['mfa'],
      auth: 'token',
      params: userParams,
      body: z.object({ passcode: sixDigits, mfaType, secret: totpSecretInput.optional() }).strict(),
      responses: { 200: { description: 'The code was right', schema: z.object({ verified: z.literal(true) }) } },
      async handler({ params, body, caller, requestId }) {
        const user = await selfUser(deps, caller, params.id);
        const nowMs = deps.nowMs();
        // A refusal is returned, not thrown, so what it spent (an e-mailed code's attempt, a wrong authenticator code) commits.
        const { value: refusal } = await runWrite(deps, caller, requestId, async (tx) => {
          const row = await lockUserMfa(tx.client, tx.tenantId, user.id);
          assertNotLocked(row, nowMs);
          const pending = openPendingState(deps.secrets, row);
          const enrolment = pending.enrolment?.method === body.mfaType ? pending.enrolment : undefined;
          if (enrolment) {
            if (body.secret !== undefined && !(enrolment.totpSecret !== undefined && sameSecret(body.secret, enrolment.totpSecret))) {
              return { field: 'body.secret', reason: 'secret differs from the pending one' };
            }
            let verified: PendingEnrolment | undefined;
            let reason = 'wrong code';
            let attempts: UserMfaChange;
            if (enrolment.totpSecret !== undefined) {
              const check = await checkTotp({ secret: enrolment.totpSecret, passcode: body.passcode, nowMs, lastAcceptedStep: enrolment.lastStep });
              attempts = await codeAttempts(tx, row, check, nowMs);
              if (check.valid) verified = { ...enrolment, verified: true, lastStep: check.step };
              else reason = `pending passcode ${check.reason}`;
            } else {
              const check = checkEmailedCode(enrolment.emailCode, body.passcode, nowMs);
              const next = { ...enrolment, emailCode: check.next };
              attempts = await codeAttempts(tx, row, check, nowMs);
              if (check.valid) verified = { ...next, verified: true };
              else {
                reason = `pending e-mailed code ${check.reason}`;
                await updateUserMfa(tx.client, tx.tenantId, user.id, { totpPendingCiphertext: sealPendingState(deps.secrets, user.id, { ...pending, enrolment: next }) });
              }
            }
            if (!verified) {
              await saveAttempts(tx, user.id, attempts);
              return { field: 'body.passcode', reason };
            }
            await updateUserMfa(tx.client, tx.tenantId, user.id, { totpPendingCiphertext: sealPendingState(deps.secrets, user.id, { ...pending, enrolment: verified }), ...attempts });
            tx.audit({ action: 'mfa.verify', targetType: 'user', targetId: user.id, after: { mfaType: body.mfaType, pending: true } });
            return undefined;
          }
          if (body.mfaType !== 'app' || !row.totpEnabled || row.totpSecretCiphertext === null) throw notEnrolled('no pending setup or enabled factor of this type to verify');
          const secret = totpSecretBox.open(deps.secrets, user.id, row.totpSecretCiphertext);
          if (body.secret !== undefined && !sameSecret(body.secret, secret)) return { field: 'body.secret', reason: 'secret differs from the enabled one' };
          const check = await checkTotp({ secret, passcode: body.passcode, nowMs, lastAcceptedStep: row.lastTotpStep });
          const attempts = await codeAttempts(tx, row, check, nowMs);
          if (!check.valid) {
            await saveAttempts(tx, user.id, attempts);
            return { field: 'body.passcode', reason: `passcode ${check.reason}` };
          }
          await updateUserMfa(tx.client, tx.tenantId, user.id, { lastTotpStep: check.step, ...attempts });
          return undefined;
        });
        if (refusal) throw invalidCode(refusal.field, refusal.reason);
        return { body: { verified: true as const } };
      },
    }),
    defineRoute({
      method: 'post',
      path: '/v1/users/{id}/mfa/enable',
      summary: 'Enable the verified pending factor, acknowledging one of its recovery codes (which is spent)',
      tags: ['mfa'],
      auth: 'token',
      params: userParams,
      body: z.object({ recoveryCode, mfaType, secret: totpSecretInput.optional() }).strict(),
      responses: { 200: { description: 'Enabled', schema: z.object({ enabled: z.literal(true) }) } },
      async handler({ params, body, caller, requestId }) {
        const user = await selfUser(deps, caller, params.id);
        const settings = await findMfaSettings(deps.pool, caller.tenantId);
        if (!settings.allowed_methods.includes(body.mfaType)) throw new ServiceError('MFA_METHOD_NOT_ALLOWED', { field: 'body.mfaType' });
        const { policyRevision } = await runWrite(deps, caller, requestId, async (tx) => {
          const row = await lockUserMfa(tx.client, tx.tenantId, user.id);
          const pending = openPendingState(deps.secrets, row);
          const enrolment = pending.enrolment?.method === body.mfaType ? pending.enrolment : undefined;
          if (!enrolment) throw notEnrolled('set this factor up first');
          if (!enrolment.verified) throw notEnrolled('verify a code of the new setup first');
          if (body.secret !== undefined && !(enrolment.totpSecret !== undefined && sameSecret(body.secret, enrolment.totpSecret))) {
            throw invalidCode('body.secret', 'secret differs from the pending one');
          }
          const acknowledged = findRecoveryCode(body.recoveryCode, enrolment.recoveryCodeHashes);
          if (acknowledged < 0) throw invalidCode('body.recoveryCode', 'not one of the recovery codes of this setup');
          const change: UserMfaChange = {
            totpPendingCiphertext: sealPendingState(deps.secrets, user.id, { ...pending, enrolment: undefined }),
            recoveryCodeHashes: enrolment.recoveryCodeHashes.filter((_, index) => index !== acknowledged),
            preferredType: row.preferredType ?? body.mfaType,
            ...(enrolment.totpSecret !== undefined
              ? { totpSecretCiphertext: totpSecretBox.seal(deps.secrets, user.id, enrolment.totpSecret), totpEnabled: true, lastTotpStep: enrolment.lastStep }
              : { emailEnabled: true }),
          };
          const updated = await updateUserMfa(tx.client, tx.tenantId, user.id, change);
          // A factor replaced (a new authenticator secret over an enabled one): whoever held the old one is signed out.
          if (enrolment.totpSecret !== undefined ? row.totpEnabled : row.emailEnabled) {
            await tx.endSessions({ kind: 'user', tenantId: tx.tenantId, userId: user.id }, 'mfa_reenrolled');
          }
          tx.audit({ action: 'mfa.enable', targetType: 'user', targetId: user.id, before: statusOf(row), after: statusOf(updated) });
        });
        return { body: { enabled: true as const }, headers: revisionHeaders(policyRevision) };
      },
    }),
    defineRoute({
      method: 'patch',
      path: '/v1/users/{id}/mfa/preferred',
      summary: 'Choose which enabled factor sign-in asks for first',
      tags: ['mfa'],
      auth: 'token',
      params: userParams,
      body: z.object({ mfaType }).strict(),
      responses: { 200: { description: 'The status', schema: mfaStatus } },
      async handler({ params, body, caller, requestId }) {
        const user = await selfUser(deps, caller, params.id);
        const { value: row, policyRevision } = await runWrite(deps, caller, requestId, async (tx) => {
          const current = await lockUserMfa(tx.client, tx.tenantId, user.id);
          if (!statusOf(current).methods.includes(body.mfaType)) throw notEnrolled('this factor is not enabled');
          const updated = await updateUserMfa(tx.client, tx.tenantId, user.id, { preferredType: body.mfaType });
          tx.audit({ action: 'mfa.preferred', targetType: 'user', targetId: user.id, before: statusOf(current), after: statusOf(updated) });
          return updated;
        });
        return { body: statusOf(row), headers: revisionHeaders(policyRevision) };
      },
    }),
    proofChallengeRoute(deps, '/v1/users/{id}/mfa/challenge', 'E-mail a one-time code that proves a current factor, for a disable or a setup while a factor is enabled (503 while no e-mail sender is configured)'),
    proofChallengeRoute(deps, '/v1/users/{id}/mfa/disable/challenge', 'The same as POST /v1/users/{id}/mfa/challenge, under the name the disable flow has used'),
    defineRoute({
      method: 'post',
      path: '/v1/users/{id}/mfa/disable',
      summary: "Turn MFA off with a proof: a current passcode, the e-mailed code, or a recovery code; the user's tokens are revoked",
      tags: ['mfa'],
      auth: 'token',
      params: userParams,
      body: z
        .object(proofFields)
        .strict()
        .refine((b) => proofCount(b) === 1, 'exactly one of passcode, emailCode, recoveryCode'),
      responses: { 200: { description: 'MFA is off', schema: mfaStatus } },
      async handler({ params, body, caller, requestId }) {
        const user = await selfUser(deps, caller, params.id);
        const proof = factorProofOf(body) as NonNullable<ReturnType<typeof factorProofOf>>;
        const nowMs = deps.nowMs();
        const { value: outcome, policyRevision } = await runWrite(deps, caller, requestId, async (tx) => {
          const row = await lockUserMfa(tx.client, tx.tenantId, user.id);
          // The built-in administrator's factors go only with the escalation permission, even its own.
          await assertMayChangeCredentials(deps, tx.policyTransaction, caller, await credentialsOwner(tx.client, tx.tenantId, user.id));
          assertNotLocked(row, nowMs);
          if (!statusOf(row).enabled) throw notEnrolled('MFA is not enabled');
          const check = await proveFactor(deps, tx, row, proof, nowMs);
          if (!check.accepted) return { refused: check, cleared: undefined };
          if (check.totpStep !== undefined) await updateUserMfa(tx.client, tx.tenantId, user.id, { lastTotpStep: check.totpStep });
          const cleared = await clearUserMfa(tx.client, tx.tenantId, user.id);
          await tx.endSessions({ kind: 'user', tenantId: tx.tenantId, userId: user.id }, 'mfa_disabled');
          tx.audit({ action: 'mfa.disable', targetType: 'user', targetId: user.id, before: statusOf(row), after: { ...statusOf(cleared), proof: Object.keys(proof)[0] } });
          return { refused: undefined, cleared };
        });
        if (outcome.refused) throw invalidCode(outcome.refused.field, outcome.refused.reason ?? 'refused');
        return { body: statusOf(outcome.cleared), headers: revisionHeaders(policyRevision) };
      },
    }),
    defineRoute({
      method: 'post',
      path: '/v1/users/{id}/mfa/reset',
      summary: "Administrator reset: remove every factor and recovery code of a user and revoke the user's tokens",
      tags: ['mfa'],
      auth: 'token',
      params: userParams,
      permission: { resource: 'mfa', action: 'delete' },
      responses: { 200: { description: 'MFA is off', schema: mfaStatus } },
      async handler({ params, caller, requestId }) {
        const user = await userInTenant(deps, caller, params.id);
        const { value: row, policyRevision } = await runWrite(deps, caller, requestId, async (tx) => {
          const current = await lockUserMfa(tx.client, tx.tenantId, user.id);
          await assertMayChangeCredentials(deps, tx.policyTransaction, caller, await credentialsOwner(tx.client, tx.tenantId, user.id));
          const cleared = await clearUserMfa(tx.client, tx.tenantId, user.id);
          await tx.endSessions({ kind: 'user', tenantId: tx.tenantId, userId: user.id }, 'mfa_reset');
          tx.audit({ action: 'mfa.reset', targetType: 'user', targetId: user.id, before: statusOf(current), after: statusOf(cleared) });
          return cleared;
        });
        return { body: statusOf(row), headers: revisionHeaders(policyRevision) };
      },
    }),
  ];
}
