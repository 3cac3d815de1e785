import { errors, jwtVerify, type JWTPayload } from 'jose';
import type pg from 'pg';
import { z } from 'zod';
import { bearerToken, maxTokenLength } from '../../platform/auth/bearer-token.js';
import { callerFromToken } from '../../platform/auth/caller-from-token.js';
import { defineRoute, type AnyRoute } from '../../platform/http/route.js';
import { endSessions } from '../../directory/sessions.js';
import { ServiceError } from '../../platform/http/service-error.js';
import { signingAlgorithm } from '../keys/signing-key-store.js';
import type { AuthDeps } from '../deps.js';
import { authRuntimeOf } from '../guards.js';
import { recordSettled, requestContextOf } from '../tokens/auth-events.js';

const uuidShape = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const body = z
  .object({
    id_token_hint: z.string().min(1).max(maxTokenLength),
    client_id: z.string().max(256).optional(),
    post_logout_redirect_uri: z.string().max(2_048).optional(),
    state: z.string().max(512).optional(),
  })
  .strict();

/**
 * The ID token naming the session. Signature, issuer, algorithm and type (`JWT`, so an access token cannot
 * stand in) are checked; an expired hint is accepted for as long as its session could live (OIDC RP-Initiated
 * Logout 1.0 §2: the OP should accept expired ID tokens as a hint).
 */
async function verifyIdTokenHint(deps: AuthDeps, token: string): Promise<JWTPayload> {
  try {
    const { payload } = await jwtVerify(token, deps.keys.keyResolver(), {
      issuer: deps.settings.issuer,
      algorithms: [signingAlgorithm],
      typ: 'JWT',
      requiredClaims: ['sub', 'sid', 'exp', 'iat', 'aud'],
      clockTolerance: deps.settings.sessionAbsoluteTtlSeconds,
      currentDate: new Date(deps.nowMs()),
    });
    return payload;
  } catch (error) {
    const detail = error instanceof errors.JOSEError ? error.message : 'id_token_hint verification failed';
    throw new ServiceError('TOKEN_INVALID', { detail: `id_token_hint: ${detail}`, cause: error });
  }
}

async function sessionOfSubject(client: pg.ClientBase, sid: string, tenantId: string, subjectId: string): Promise<{ subjectKind: 'user' | 'application' } | undefined> {
  const { rows } = await client.query<{ subject_kind: 'user' | 'application' }>(
    'SELECT subject_kind FROM sessions WHERE id = $1::uuid AND org_id = $2::uuid AND subject_id = $3::uuid',
    [sid, tenantId, subjectId],
  );
  return rows[0] ? { subjectKind: rows[0].subject_kind } : undefined;
}

/**
 * `POST /v1/logout` (form `id_token_hint`): ends the session the ID token names — `sessions.revoked_at` set, so
 * its refresh tokens are refused and every access token carrying its `sid` is refused by the guards (at once
 * on this replica, within the ActiveTokenCheck bound on others). An access token sent along in `Authorization` also
 * has its `jti` revoked until it expires. Answers 200 with an empty body, also for a session already ended.
 */
export function logoutRoutes(deps: AuthDeps): AnyRoute[] {
  return [
    defineRoute({
      method: 'post',
      path: '/v1/logout',
      summary: 'End the session named by id_token_hint',
      tags: ['session'],
      auth: 'none',
      body,
      responses: { 200: { description: 'Session ended (empty body)' } },
      async handler({ body: form, req, requestId }) {
        const hint = await verifyIdTokenHint(deps, form.id_token_hint);
        const sid = hint.sid as unknown;
        const subjectId = hint.sub as string;
        const tenantId = deps.tenancy.multiTenant ? hint.tenantId : deps.tenancy.defaultTenantId;
        if (typeof sid !== 'string' || !uuidShape.test(sid) || typeof tenantId !== 'string' || !uuidShape.test(tenantId) || !uuidShape.test(subjectId)) {
          throw new ServiceError('TOKEN_INVALID', { detail: 'id_token_hint lacks a usable sid, sub or tenantId' });
        }
        // An access token sent along must be the same subject's; a bad one fails the logout (nothing changed yet).
        const access = req.header('authorization') === undefined ? undefined : callerFromToken(await deps.tokens.verify(bearerToken(req)), deps.tenancy);
        if (access && (access.id !== subjectId || access.tenantId !== tenantId)) {
          throw new ServiceError('FORBIDDEN', { detail: 'the access token belongs to another subject than the id_token_hint' });
        }
        const accessExpMs = access && typeof access.claims.exp === 'number' ? access.claims.exp * 1000 : undefined;
        let subjectKind: 'user' | 'application';
        let revokeAtProvider: (() => Promise<void>) | undefined;
        const client = await deps.pool.connect().catch((error: unknown) => {
          throw new ServiceError('SERVICE_UNAVAILABLE', { detail: 'logout: no database connection', cause: error });
        });
        // Checked out, the client has no pool listener: a dropped connection must not crash the process.
        const onError = (): void => undefined;
        client.on('error', onError);
        try {
          await client.query('BEGIN');
          // Refresh tokens before the session row: a refresh locks its token, then the session (reuse revokes it);
          // taking the two in the other order here would deadlock with it.
          await client.query(
            `UPDATE refresh_tokens rt SET expires_at = least(rt.expires_at, now())
               FROM sessions s WHERE rt.session_id = s.id AND s.id = $1::uuid AND s.org_id = $2::uuid AND s.subject_id = $3::uuid`,
            [sid, tenantId, subjectId],
          );
          const ended = await endSessions(client, { kind: 'session', sessionId: sid, tenantId: tenantId, subjectId }, 'logout');
          // A session ended earlier (another logout, a password change) still answers 200, and its provider grant still goes.
          const session = ended[0] ?? (await sessionOfSubject(client, sid, tenantId, subjectId));
          subjectKind = session?.subjectKind ?? 'user';
          // oidc mode: our copy of the provider's tokens goes with the session; revoked at the provider after the commit.
          if (session) revokeAtProvider = await deps.identityProvider?.sessions?.detach(client, sid);
          if (access?.tokenId !== undefined && accessExpMs !== undefined) {
            await client.query(
              'INSERT INTO revoked_access_tokens (jti, org_id, expires_at) VALUES ($1, $2::uuid, to_timestamp($3 / 1000.0)) ON CONFLICT (jti) DO NOTHING',
              [access.tokenId, tenantId, accessExpMs],
            );
          }
          await client.query('COMMIT');
        } catch (error) {
          await client.query('ROLLBACK').catch(() => undefined);
          throw new ServiceError('SERVICE_UNAVAILABLE', { detail: 'logout could not be recorded', cause: error });
        } finally {
          client.removeListener('error', onError);
          client.release();
        }
        // The last instant any access token of the session could still verify (TTL plus the verifier's skew).
        const untilMs = deps.nowMs() + (deps.settings.accessTokenTtlSeconds + 60) * 1000;
        authRuntimeOf(deps).tokenCheck.endLocally({
          tenantId,
          subject: `${subjectKind === 'application' ? 'app' : 'user'}:${subjectId}`,
          sid,
          ...(access?.tokenId ? { jti: access.tokenId } : {}),
          untilMs,
        });
        // After the commit, best effort: the logout stands even if its security event cannot be written.
        await recordSettled(deps, requestContextOf(deps, req, requestId), {
          tenantId,
          actor: `${subjectKind === 'application' ? 'app' : 'user'}:${subjectId}`,
          action: 'auth.logout',
          outcome: 'success',
          targetType: subjectKind,
          targetId: subjectId,
          details: { sessionId: sid },
        });
        // Best effort: the session is over here whatever the provider answers, and its tokens were only ever in our hands.
        await revokeAtProvider?.().catch((error: unknown) =>
          deps.report({ level: 'warn', requestId, code: 'IDENTITY_PROVIDER_UNAVAILABLE', status: 200, detail: 'logout: revocation at the identity provider failed', error }),
        );
        return { status: 200, headers: { 'Cache-Control': 'no-store' } };
      },
    }),
  ];
}
