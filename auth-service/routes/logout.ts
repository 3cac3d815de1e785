import { errors, jwtVerify, type JWTPayload } from 'jose';
import { z } from 'zod';
import type { Clock } from '../../engine/index.js';
import { bearerToken, maxTokenLength } from '../../platform/auth/bearer-token.js';
import { callerFromToken, type TenancyOptions } from '../../platform/auth/caller-from-token.js';
import type { EndHere } from '../../platform/auth/ended-here.js';
import type { TokenVerifier } from '../../platform/auth/token-verifier.js';
import type { ErrorReporter } from '../../platform/http/error-handler.js';
import { defineRoute, type AnyRoute } from '../../platform/http/route.js';
import { ServiceError } from '../../platform/http/service-error.js';
import type { AuthEvents } from '../audit/auth-events.js';
import { signingAlgorithm, type SigningKeyStore } from '../keys/signing-key-store.js';
import type { SessionLogout } from '../tokens/session-logout.js';

/** What the logout route needs: the keys and settings to read the hint, the logout itself, and what follows it. */
export interface LogoutParts {
  readonly settings: { readonly issuer: string; readonly sessionAbsoluteTtlSeconds: number };
  readonly keys: Pick<SigningKeyStore, 'keyResolver'>;
  readonly tokens: TokenVerifier;
  readonly tenancy: TenancyOptions;
  readonly clock: Clock;
  readonly logout: Pick<SessionLogout, 'end'>;
  readonly endHere: EndHere;
  readonly events: Pick<AuthEvents, 'contextOf' | 'recordSettled'>;
  readonly report: ErrorReporter;
}

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
async function verifyIdTokenHint(deps: LogoutParts, token: string): Promise<JWTPayload> {
  try {
    const { payload } = await jwtVerify(token, deps.keys.keyResolver(), {
      issuer: deps.settings.issuer,
      algorithms: [signingAlgorithm],
      typ: 'JWT',
      requiredClaims: ['sub', 'sid', 'exp', 'iat', 'aud'],
      clockTolerance: deps.settings.sessionAbsoluteTtlSeconds,
      currentDate: new Date(deps.clock.nowMs()),
    });
    return payload;
  } catch (error) {
    const detail = error instanceof errors.JOSEError ? error.message : 'id_token_hint verification failed';
    throw new ServiceError('TOKEN_INVALID', { detail: `id_token_hint: ${detail}`, cause: error });
  }
}

/**
 * `POST /v1/logout` (form `id_token_hint`): ends the session the ID token names — `sessions.revoked_at` set, so
 * its refresh tokens are refused and every access token carrying its `sid` is refused by the guards (at once
 * on this replica, within the ActiveTokenCheck bound on others). An access token sent along in `Authorization` also
 * has its `jti` revoked until it expires. Answers 200 with an empty body, also for a session already ended.
 */
export function logoutRoutes(deps: LogoutParts): AnyRoute[] {
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
        const { subjectKind, revokeAtProvider } = await deps.logout.end({
          sid,
          tenantId,
          subjectId,
          ...(access?.tokenId !== undefined && accessExpMs !== undefined ? { accessToken: { jti: access.tokenId, expiresAtMs: accessExpMs } } : {}),
        });
        deps.endHere({
          tenantId,
          subject: `${subjectKind === 'application' ? 'app' : 'user'}:${subjectId}`,
          sid,
          ...(access?.tokenId ? { jti: access.tokenId } : {}),
        });
        // After the commit, best effort: the logout stands even if its security event cannot be written.
        await deps.events.recordSettled(deps.events.contextOf(req, requestId), {
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
