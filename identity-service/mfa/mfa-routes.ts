import { z } from 'zod';
import { defineRoute, type AnyRoute } from '../../platform/http/route.js';
import type { IdentityDeps } from '../deps.js';
import { etagOf, expectedVersion } from '../etag.js';
import { changedHeaders } from '../record-change.js';
import { revisionHeaders } from '../write-transaction.js';
import { factorProofOf } from './factor-proof.js';
import { mfaSettingsService } from './mfa-settings-service.js';
import { mfaSetup, mfaSettings, mfaSettingsBody, mfaStatus, mfaType } from './mfa-views.js';
import { isSelf } from './user-factor-checks.js';
import { userFactorsService, type UserFactorsService } from './user-factors-service.js';

const userParams = z.object({ id: z.uuid() }).strict();
const sixDigits = z.string().regex(/^[0-9]{6}$/, 'six digits');
const recoveryCode = z.string().min(1).max(64).regex(/^[A-Za-z0-9 -]+$/, 'letters, digits and dashes');
const totpSecretInput = z.string().min(16).max(128).regex(/^[A-Za-z2-7= ]+$/, 'a Base32 secret');
/** Proof of a current factor: a passcode, a code from `/mfa/challenge` (or `/mfa/disable/challenge`), or a recovery code. */
const proofFields = { passcode: sixDigits.optional(), emailCode: sixDigits.optional(), recoveryCode: recoveryCode.optional() };
const proofCount = (b: { passcode?: string | undefined; emailCode?: string | undefined; recoveryCode?: string | undefined }) =>
  [b.passcode, b.emailCode, b.recoveryCode].filter((v) => v !== undefined).length;

/** Sends the e-mailed code that proves a current factor (a disable, or a setup while a factor is enabled). */
function proofChallengeRoute(factors: UserFactorsService, path: string, summary: string): AnyRoute {
  return defineRoute({
    method: 'post',
    path,
    summary,
    tags: ['mfa'],
    auth: 'token',
    params: userParams,
    responses: { 200: { description: 'A code was sent', schema: z.object({ message: z.string(), expiresIn: z.number().int() }) } },
    async handler({ params, caller, requestId }) {
      const { expiresInSeconds } = await factors.sendProofCode({ caller, requestId }, params.id);
      return { body: { message: 'a code was sent to the e-mail address on file', expiresIn: expiresInSeconds } };
    },
  });
}

/** The routes of an organization's MFA settings and of a user's factors (see mfaSettingsService, userFactorsService). */
export function mfaRoutes(deps: IdentityDeps): AnyRoute[] {
  const settings = mfaSettingsService(deps);
  const factors = userFactorsService(deps);
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
        const { view, version } = await settings.get(caller.tenantId);
        return { body: view, headers: { ETag: etagOf(version) } };
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
        const changed = await settings.replace({ caller, requestId, expectedVersion: expectedVersion(req) }, body);
        return { body: changed.view, headers: changedHeaders(changed) };
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
      async handler({ params, caller, requestId }) {
        return { body: await factors.status({ caller, requestId }, params.id) };
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
        const { setup, policyRevision } = await factors.setup({ caller, requestId }, params.id, body);
        return { body: setup, headers: { 'Cache-Control': 'no-store', ...revisionHeaders(policyRevision) } };
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
        await factors.verify({ caller, requestId }, params.id, body);
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
        const { policyRevision } = await factors.enable({ caller, requestId }, params.id, body);
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
        const { status, policyRevision } = await factors.prefer({ caller, requestId }, params.id, body.mfaType);
        return { body: status, headers: revisionHeaders(policyRevision) };
      },
    }),
    proofChallengeRoute(factors, '/v1/users/{id}/mfa/challenge', 'E-mail a one-time code that proves a current factor, for a disable or a setup while a factor is enabled (503 while no e-mail sender is configured)'),
    proofChallengeRoute(factors, '/v1/users/{id}/mfa/disable/challenge', 'The same as POST /v1/users/{id}/mfa/challenge, under the name the disable flow has used'),
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
        const proof = factorProofOf(body) as NonNullable<ReturnType<typeof factorProofOf>>;
        const { status, policyRevision } = await factors.disable({ caller, requestId }, params.id, proof);
        return { body: status, headers: revisionHeaders(policyRevision) };
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
        const { status, policyRevision } = await factors.reset({ caller, requestId }, params.id);
        return { body: status, headers: revisionHeaders(policyRevision) };
      },
    }),
  ];
}
