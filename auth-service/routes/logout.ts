import type { Request } from 'express';
import { errors, jwtVerify, type JWTPayload } from 'jose';
import { z } from 'zod';
import type { Clock } from '../../engine/index.js';
import { bearerToken, maxTokenLength } from '../../platform/auth/bearer-token.js';
import { callerFromToken, type TenancyOptions } from '../../platform/auth/caller-from-token.js';
import type { EndHere } from '../../platform/auth/ended-here.js';
import type { TokenVerifier } from '../../platform/auth/token-verifier.js';
import type { ErrorReporter } from '../../platform/http/error-handler.js';
import { defineRoute, type AnyRoute, type RouteResult } from '../../platform/http/route.js';
import { ServiceError } from '../../platform/http/service-error.js';
import type { AuthEvents } from '../audit/auth-events.js';
import { isRegisteredRedirectUri } from '../../domain/redirect-uri.js';
import { redirectWith } from '../hosted-sign-in/authorization-query.js';
import type { SignInRecords } from '../hosted-sign-in/sign-in-records.js';
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
  /** The applications, for the redirect after logout (a URI registered for the hint's client, exactly). */
  readonly records: Pick<SignInRecords, 'findClient'>;
  readonly endHere: EndHere;
  readonly events: Pick<AuthEvents, 'contextOf' | 'recordSettled'>;
  readonly report: ErrorReporter;
}

const uuidShape = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

// OIDC RP-Initiated Logout 1.0 §2: the same parameters by GET (query) or POST (form). `logout_hint` and
// `ui_locales` are accepted and not used: the ID token names the session, and the answer has no page to translate.
const endSessionFields = {
  id_token_hint: z.string().min(1).max(maxTokenLength),
  client_id: z.string().max(256).optional(),
  post_logout_redirect_uri: z.string().max(2_048).optional(),
  state: z.string().max(512).optional(),
  logout_hint: z.string().max(512).optional(),
  ui_locales: z.string().max(256).optional(),
};
const endSessionRequest = z.object(endSessionFields).strict();
type EndSessionRequest = z.infer<typeof endSessionRequest>;

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
 * Where the browser goes after the logout: `post_logout_redirect_uri` when it is exactly one of the redirect URIs
 * registered for the hint's client (its `aud`, or the `client_id` sent, which must be that audience), with `state`
 * added; undefined when none was asked. Checked before anything ends: a URI that is not registered is a 400 and
 * no session ends (an open redirect would send users anywhere under our name).
 */
async function redirectAfterLogout(deps: LogoutParts, hint: JWTPayload, tenantId: string, request: EndSessionRequest): Promise<string | undefined> {
  const audiences = typeof hint.aud === 'string' ? [hint.aud] : (hint.aud ?? []);
  if (request.client_id !== undefined && !audiences.includes(request.client_id)) {
    throw new ServiceError('VALIDATION_FAILED', { message: "client_id is not the id_token_hint's client", field: 'client_id' });
  }
  const uri = request.post_logout_redirect_uri;
  if (uri === undefined) return undefined;
  const clientId = request.client_id ?? (audiences.length === 1 ? audiences[0] : undefined);
  const client = clientId === undefined ? undefined : await deps.records.findClient(clientId);
  if (!client || client.tenantId !== tenantId || !isRegisteredRedirectUri(client.redirectUris, uri)) {
    throw new ServiceError('VALIDATION_FAILED', { message: "post_logout_redirect_uri is not a redirect URI registered for the id_token_hint's client", field: 'post_logout_redirect_uri' });
  }
  return redirectWith(uri, { state: request.state });
}

/**
 * `/v1/logout`, the end-session endpoint of OIDC RP-Initiated Logout 1.0 by GET (query) and POST (form, the
 * contract's): ends the session the ID token names — `sessions.revoked_at` set, so its refresh tokens are refused
 * and every access token carrying its `sid` is refused by the guards (at once on this replica, within the
 * ActiveTokenCheck bound on others). An access token sent along in `Authorization` also has its `jti` revoked
 * until it expires. Answers 200 with an empty body (also for a session already ended), or 302 to a registered
 * `post_logout_redirect_uri` with `state`.
 */
export function logoutRoutes(deps: LogoutParts): AnyRoute[] {
  async function endSession(request: EndSessionRequest, req: Request, requestId: string): Promise<RouteResult> {
    const hint = await verifyIdTokenHint(deps, request.id_token_hint);
    const sid = hint.sid as unknown;
    const subjectId = hint.sub as string;
    const tenantId = deps.tenancy.multiTenant ? hint.tenantId : deps.tenancy.defaultTenantId;
    if (typeof sid !== 'string' || !uuidShape.test(sid) || typeof tenantId !== 'string' || !uuidShape.test(tenantId) || !uuidShape.test(subjectId)) {
      throw new ServiceError('TOKEN_INVALID', { detail: 'id_token_hint lacks a usable sid, sub or tenantId' });
    }
    const redirectTo = await redirectAfterLogout(deps, hint, tenantId, request);
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
    if (redirectTo !== undefined) return { status: 302, headers: { Location: redirectTo, 'Cache-Control': 'no-store' } };
    return { status: 200, headers: { 'Cache-Control': 'no-store' } };
  }

  const responses = {
    200: { description: 'Session ended (empty body)' },
    302: { description: 'Session ended; on to the registered post_logout_redirect_uri, with state' },
  };
  return [
    defineRoute({
      method: 'post',
      path: '/v1/logout',
      summary: 'End the session named by id_token_hint',
      tags: ['session'],
      auth: 'none',
      body: endSessionRequest,
      responses,
      handler: ({ body: form, req, requestId }) => endSession(form, req, requestId),
    }),
    defineRoute({
      method: 'get',
      path: '/v1/logout',
      summary: 'End the session named by id_token_hint (RP-initiated logout from a browser)',
      tags: ['session'],
      auth: 'none',
      query: endSessionRequest,
      responses,
      handler: ({ query, req, requestId }) => endSession(query, req, requestId),
    }),
  ];
}
