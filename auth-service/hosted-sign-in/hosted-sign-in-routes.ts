import express, { type Request, type Response, type Router } from 'express';
import { requestIdOf } from '../../platform/http/request-id.js';
import { ServiceError } from '../../platform/http/service-error.js';
import type { Clock } from '../../engine/index.js';
import type { ErrorReporter } from '../../platform/http/error-handler.js';
import type { SecretBox } from '../../platform/secret-box.js';
import type { AuthEvents, RequestContext } from '../audit/auth-events.js';
import { authCatalogue, type AuthError } from '../errors.js';
import { sealUpstreamGrant } from '../identity-providers/upstream-grant-seal.js';
import type { AuthenticatedUser } from '../identity-providers/identity-provider.js';
import type { MfaChallengeAnswer, MfaLogin, MfaMethod } from '../mfa/index.js';
import type { TokenService } from '../tokens/token-service.js';
import type { CodeSubject } from './authorization-codes.js';
import { checkAuthorizationQuery, redirectWith, type CheckedAuthorization } from './authorization-query.js';
import { newSecret, type AuthorizationRequest, type PendingMfa } from './authorization-requests.js';
import type { SignInRecords } from './sign-in-records.js';
import { renderSignInPage, type PageForm, type SignInPage } from './sign-in-page.js';
import { signInCss, signInJs } from './sign-in-assets.js';

/** The hosted page's address; its form posts back here. */
export const authorizePath = '/authorize';

const browserCookie = 'am_sign_in';
const deviceCookie = 'am_device';

const formSchemaLimitBytes = 16 * 1024;

function cookieOf(req: Request, name: string): string | undefined {
  const header = req.headers.cookie;
  if (header === undefined) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) {
      const value = part.slice(eq + 1).trim();
      return /^[A-Za-z0-9_-]{1,128}$/.test(value) ? value : undefined;
    }
  }
  return undefined;
}

/**
 * The hosted sign-in page's headers: nothing loads from anywhere but us, no inline script or style, no framing,
 * no referrer (the query carries the request), never cached. `form-action` names our own origin and the client's
 * redirect origin, as a browser checks the redirect that follows a form post against it.
 */
function pageHeaders(res: Response, formTarget?: string): void {
  const formAction = formTarget === undefined ? "'self'" : `'self' ${new URL(formTarget).origin}`;
  res.setHeader(
    'Content-Security-Policy',
    `default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'none'; form-action ${formAction}; frame-ancestors 'none'; base-uri 'none'`,
  );
  res.setHeader('X-Frame-Options', 'DENY');
  res.setHeader('Referrer-Policy', 'no-referrer');
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('Pragma', 'no-cache');
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
  res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
}

function show(res: Response, status: number, page: SignInPage, formTarget?: string): void {
  pageHeaders(res, formTarget);
  res.status(status).type('html').send(renderSignInPage(page));
}

function redirect(res: Response, location: string): void {
  pageHeaders(res, location);
  res.status(303).setHeader('Location', location).end();
}

const amrOfProof = (input: { passcode?: string; recoveryCode?: string }): string[] => (input.passcode !== undefined ? ['pwd', 'otp', 'mfa'] : ['pwd', 'mfa']);

/**
 * The hosted sign-in (OAuth 2.0 authorization code flow with PKCE, OpenID Connect): `GET /authorize` checks the
 * request and shows the page; `POST /authorize` takes its forms (password, second factor, recovery code, a code by
 * e-mail, cancel). It drives the same password sign-in and MFA challenge as the token routes, so the same
 * lockouts, spray limits and attempt limits hold; the per-address token-route limit covers its posts too.
 *
 * Each form post must come from the browser the request started in (a cookie whose digest the request keeps) and
 * carry the page's latest form token (single use: spent by the post, a fresh one on the next page), so another
 * site cannot post a sign-in into the user's browser, and a page cannot be replayed.
 */
export interface HostedSignInParts {
  readonly settings: { readonly issuer: string; readonly mfa: { readonly rememberTtlSeconds: number } };
  readonly records: SignInRecords;
  readonly tokenService: Pick<TokenService, 'passwordSignIn'>;
  readonly mfaLogin: Pick<MfaLogin, 'sendCode' | 'verify'>;
  readonly events: Pick<AuthEvents, 'contextOf'>;
  readonly secrets: SecretBox;
  readonly clock: Clock;
  readonly report: ErrorReporter;
}

export function hostedSignInRoutes(deps: HostedSignInParts): Router {
  const service = deps.tokenService;
  const secureCookies = deps.settings.issuer.startsWith('https://');
  const cookieAttributes = `Path=${authorizePath}; HttpOnly; SameSite=Lax${secureCookies ? '; Secure' : ''}`;
  const issuer = deps.settings.issuer;
  const router = express.Router({ strict: true, caseSensitive: true });
  const form = express.urlencoded({ extended: false, limit: formSchemaLimitBytes, parameterLimit: 20 });

  router.get(`${authorizePath}/sign-in.css`, (_req, res) => {
    res.setHeader('Cache-Control', 'public, max-age=300');
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.type('text/css').send(signInCss);
  });
  router.get(`${authorizePath}/sign-in.js`, (_req, res) => {
    res.setHeader('Cache-Control', 'public, max-age=300');
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.type('text/javascript').send(signInJs);
  });

  const failed = (res: Response, error: unknown): void => {
    const requestId = requestIdOf(res);
    const known = error instanceof ServiceError ? authCatalogue[error.code as AuthError] : undefined;
    const status = known?.status ?? 500;
    deps.report({ level: status >= 500 ? 'error' : 'warn', requestId, code: error instanceof ServiceError ? error.code : 'INTERNAL', status, detail: error instanceof ServiceError ? (error.detail ?? '') : String(error) });
    show(res, status >= 500 ? status : 400, { kind: 'error', title: 'Sign-in is unavailable', message: status === 503 ? 'Access Manager cannot sign you in right now. Try again in a moment.' : `Something went wrong (request ${requestId}).` });
  };

  router.get(authorizePath, async (req, res) => {
    try {
      const check = await checkAuthorizationQuery(req.query as Record<string, unknown>, (clientId) => deps.records.findClient(clientId));
      if (check.kind === 'show') {
        show(res, 400, { kind: 'error', title: 'Sign-in cannot continue', message: check.message });
        return;
      }
      if (check.kind === 'redirect') {
        redirect(res, redirectWith(check.redirectUri, { error: check.error, error_description: check.description, state: check.state, iss: issuer }));
        return;
      }
      await startPage(req, res, check.authorization);
    } catch (error) {
      failed(res, error);
    }
  });

  async function startPage(req: Request, res: Response, authorization: CheckedAuthorization): Promise<void> {
    let browserSecret = cookieOf(req, browserCookie);
    if (browserSecret === undefined) {
      browserSecret = newSecret();
      res.append('Set-Cookie', `${browserCookie}=${browserSecret}; ${cookieAttributes}`);
    }
    const { request, formToken } = await deps.records.createRequest(
      {
        tenantId: authorization.client.tenantId,
        clientId: authorization.client.clientId,
        redirectUri: authorization.redirectUri,
        state: authorization.state,
        nonce: authorization.nonce,
        codeChallenge: authorization.codeChallenge,
        scope: authorization.scope,
      },
      browserSecret,
      deps.clock.nowMs(),
    );
    const page: SignInPage = { kind: 'password', form: { requestId: request.id, formToken, applicationName: authorization.client.name }, ...(authorization.loginHint === undefined ? {} : { username: authorization.loginHint }) };
    show(res, 200, page, request.redirectUri);
  }

  router.post(authorizePath, (req, res) => {
    form(req, res, (parseError?: unknown) => {
      if (parseError !== undefined) {
        show(res, 413, { kind: 'error', title: 'Sign-in cannot continue', message: 'The form was too large or malformed. Go back to the application and start again.' });
        return;
      }
      handlePost(req, res).catch((error: unknown) => failed(res, error));
    });
  });

  const field = (body: Record<string, unknown>, name: string, max: number): string | undefined => {
    const value = body[name];
    return typeof value === 'string' && value.length > 0 && value.length <= max ? value : undefined;
  };

  async function handlePost(req: Request, res: Response): Promise<void> {
    const body = (req.body ?? {}) as Record<string, unknown>;
    const requestId = field(body, 'request', 36);
    const formToken = field(body, 'form_token', 64);
    const browserSecret = cookieOf(req, browserCookie);
    const taken =
      requestId !== undefined && /^[0-9a-f-]{36}$/.test(requestId) && formToken !== undefined && browserSecret !== undefined
        ? await deps.records.takeRequest({ id: requestId, browserSecret, formToken, nowMs: deps.clock.nowMs() })
        : undefined;
    if (!taken) {
      show(res, 403, { kind: 'error', title: 'This sign-in page has expired', message: 'The page was already used, has expired, or was opened in another browser. Go back to the application and start again.' });
      return;
    }
    const { request } = taken;
    const client = await deps.records.findClient(request.clientId);
    // The application or its organization went away, or the URI was unregistered, while the page was open.
    if (!client || !client.redirectUris.includes(request.redirectUri)) {
      await deps.records.endRequest(request.id);
      show(res, 400, { kind: 'error', title: 'Sign-in cannot continue', message: 'The application is no longer registered for this sign-in.' });
      return;
    }
    const pageForm: PageForm = { requestId: request.id, formToken: taken.formToken, applicationName: client.name };
    const context = deps.events.contextOf(req, requestIdOf(res));
    const step = field(body, 'step', 20);
    if (step === 'cancel') {
      await deps.records.endRequest(request.id);
      redirect(res, redirectWith(request.redirectUri, { error: 'access_denied', error_description: 'the user cancelled the sign-in', state: request.state, iss: issuer }));
      return;
    }
    if (step === 'password') {
      await passwordStep(req, res, body, request, pageForm, client, context);
      return;
    }
    if (request.mfa === undefined || (step !== 'mfa' && step !== 'recovery' && step !== 'send_code')) {
      show(res, 400, { kind: 'password', form: pageForm, message: 'Sign in with your username and password first.' }, request.redirectUri);
      return;
    }
    await mfaStep(res, body, step, request, request.mfa, pageForm, context);
  }

  async function passwordStep(
    req: Request,
    res: Response,
    body: Record<string, unknown>,
    request: AuthorizationRequest,
    pageForm: PageForm,
    client: { clientId: string; tenantId: string },
    context: RequestContext,
  ): Promise<void> {
    const username = field(body, 'username', 256);
    const password = field(body, 'password', 1024);
    const again = (status: number, message: string): void =>
      show(res, status, { kind: 'password', form: pageForm, message, ...(username === undefined ? {} : { username }) }, request.redirectUri);
    if (username === undefined || password === undefined) {
      again(400, 'Enter your username and password.');
      return;
    }
    const deviceToken = cookieOf(req, deviceCookie);
    let outcome: Awaited<ReturnType<TokenService['passwordSignIn']>>;
    try {
      outcome = await service.passwordSignIn(
        { username, password, client, ...(request.scope === undefined ? {} : { scope: request.scope }), ...(deviceToken === undefined ? {} : { deviceToken }) },
        context,
      );
    } catch (error) {
      if (!(error instanceof ServiceError)) throw error;
      const retryAfter = error.headers?.['Retry-After'];
      if (retryAfter !== undefined) res.setHeader('Retry-After', retryAfter);
      if (error.code === 'INVALID_GRANT') return again(400, 'The username or password is not right.');
      if (error.code === 'ACCOUNT_LOCKED' || error.code === 'RATE_LIMITED') return again(429, `Too many failed sign-ins. Try again${retryAfter === undefined ? ' later' : ` in ${Math.ceil(Number(retryAfter) / 60)} minute(s)`}.`);
      if (error.code === 'MFA_ENROLMENT_REQUIRED' || error.code === 'MFA_METHOD_UNAVAILABLE') return again(403, authCatalogue[error.code as AuthError].title);
      throw error;
    }
    if (outcome.kind === 'user') {
      await finish(res, request, outcome.user, ['pwd']);
      return;
    }
    const methods = outcome.challenge.mfaTypes.filter((m) => m !== 'sms');
    await deps.records.setRequestMfa(request.id, { token: outcome.challenge.mfaToken, methods, preferred: outcome.challenge.preferredType });
    await showMfa(res, request, pageForm, outcome.challenge, methods);
  }

  async function showMfa(res: Response, request: AuthorizationRequest, pageForm: PageForm, challenge: MfaChallengeAnswer, methods: readonly MfaMethod[]): Promise<void> {
    let notice: string | undefined;
    let message: string | undefined;
    // Without an authenticator, the only way on is a code by e-mail: send it at once.
    if (!methods.includes('app') && methods.includes('email')) {
      try {
        notice = (await deps.mfaLogin.sendCode({ mfaToken: challenge.mfaToken, mfaType: 'email' })).message;
      } catch (error) {
        if (!(error instanceof ServiceError)) throw error;
        message = authCatalogue[error.code as AuthError]?.title ?? 'The code could not be sent.';
      }
    }
    show(res, 200, mfaPageOf(pageForm, methods, challenge.preferredType, { ...(notice === undefined ? {} : { notice }), ...(message === undefined ? {} : { message }) }), request.redirectUri);
  }

  function mfaPageOf(pageForm: PageForm, methods: readonly MfaMethod[], preferred: MfaMethod, extra: { notice?: string; message?: string }): SignInPage {
    return { kind: 'mfa', form: pageForm, methods, preferred: methods.includes(preferred) ? preferred : (methods[0] ?? 'app'), rememberOffered: deps.settings.mfa.rememberTtlSeconds > 0, ...extra };
  }

  async function mfaStep(
    res: Response,
    body: Record<string, unknown>,
    step: 'mfa' | 'recovery' | 'send_code',
    request: AuthorizationRequest,
    mfa: PendingMfa,
    pageForm: PageForm,
    context: RequestContext,
  ): Promise<void> {
    const requestedType = field(body, 'mfa_type', 10);
    const mfaType = mfa.methods.find((m) => m === requestedType);
    const again = (status: number, extra: { notice?: string; message?: string }): void =>
      show(res, status, mfaPageOf(pageForm, mfa.methods, mfaType ?? mfa.preferred, extra), request.redirectUri);
    const restart = async (message: string): Promise<void> => {
      await deps.records.setRequestMfa(request.id, undefined);
      show(res, 400, { kind: 'password', form: pageForm, message }, request.redirectUri);
    };
    try {
      if (step === 'send_code') {
        const sent = await deps.mfaLogin.sendCode({ mfaToken: mfa.token, mfaType: 'email' });
        again(200, { notice: sent.message });
        return;
      }
      const passcode = step === 'mfa' ? field(body, 'passcode', 6) : undefined;
      const recoveryCode = step === 'recovery' ? field(body, 'recovery_code', 64) : undefined;
      if (step === 'mfa' && (passcode === undefined || !/^[0-9]{6}$/.test(passcode))) return again(400, { message: 'Enter the six digits of the code.' });
      if (step === 'recovery' && (recoveryCode === undefined || !/^[A-Za-z0-9 -]+$/.test(recoveryCode))) return again(400, { message: 'Enter a recovery code: letters, digits and dashes.' });
      const proof = passcode !== undefined ? { passcode } : { recoveryCode: recoveryCode as string };
      const verified = await deps.mfaLogin.verify(
        { mfaToken: mfa.token, ...proof, ...(step === 'mfa' && mfaType !== undefined ? { mfaType } : {}), rememberDevice: field(body, 'remember_device', 2) === 'on' },
        context,
      );
      if (verified.deviceToken !== undefined) {
        res.append('Set-Cookie', `${deviceCookie}=${verified.deviceToken}; ${cookieAttributes}; Max-Age=${deps.settings.mfa.rememberTtlSeconds}`);
      }
      await finish(res, request, { ...verified.user, kind: 'user' }, amrOfProof(proof));
    } catch (error) {
      if (!(error instanceof ServiceError)) throw error;
      const retryAfter = error.headers?.['Retry-After'];
      if (retryAfter !== undefined) res.setHeader('Retry-After', retryAfter);
      if (error.code === 'MFA_CODE_INVALID') return again(400, { message: step === 'recovery' ? 'That recovery code is not right.' : 'That code is not right.' });
      if (error.code === 'RATE_LIMITED') return again(429, { message: 'Too many wrong codes. Try again later, or use a recovery code.' });
      if (error.code === 'MFA_RESEND_LIMIT' || error.code === 'MFA_DELIVERY_FAILED' || error.code === 'MFA_METHOD_UNAVAILABLE') return again(error.code === 'MFA_DELIVERY_FAILED' ? 503 : 400, { message: authCatalogue[error.code as AuthError].title });
      if (error.code === 'MFA_TOKEN_INVALID' || error.code === 'MFA_ATTEMPTS_EXHAUSTED' || error.code === 'INVALID_GRANT') return restart('The verification ended. Sign in again.');
      throw error;
    }
  }

  /** All factors are done: the code goes to the client's redirect URI, and the page's request is over. */
  async function finish(res: Response, request: AuthorizationRequest, user: AuthenticatedUser, amr: readonly string[]): Promise<void> {
    const { upstream, ...rest } = user;
    const subject: CodeSubject = { ...rest, ...(upstream ? { upstreamSealed: sealUpstreamGrant(deps.secrets, user.id, upstream) } : {}) };
    const code = await deps.records.issueCode({
      tenantId: user.tenantId,
      clientId: request.clientId,
      redirectUri: request.redirectUri,
      codeChallenge: request.codeChallenge,
      nonce: request.nonce,
      scope: request.scope,
      subject,
      amr,
      nowMs: deps.clock.nowMs(),
    });
    await deps.records.endRequest(request.id);
    redirect(res, redirectWith(request.redirectUri, { code, state: request.state, iss: issuer }));
  }

  return router;
}

/** The page's answer when its address is over the token routes' per-address limit (createTokenRateLimit's `pages`). */
export function signInRateLimited(_req: Request, res: Response, retryAfterSeconds: string | undefined): void {
  if (retryAfterSeconds !== undefined) res.setHeader('Retry-After', retryAfterSeconds);
  show(res, 429, { kind: 'error', title: 'Too many attempts', message: 'Too many sign-in attempts from this address. Wait a minute, then go back and try again.' });
}
