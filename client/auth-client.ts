import type { IncomingMessage } from 'node:http';
import { decodeJwt, type JWTPayload } from 'jose';
import { authorizeAnswer, batchAnswer, declarationAnswer, permissionsAnswer, readAnswer, tokenAnswer } from './answers.js';
import type { AuthClientOptions } from './auth-client-options.js';
import { CircuitBreaker } from './circuit-breaker.js';
import { createClientAddress } from './client-address.js';
import { DecisionCache, type DecisionQuestion } from './decision-cache.js';
import { AuthClientError } from './errors.js';
import { HttpTransport } from './http-transport.js';
import { createLocalTokenVerifier } from './local-token-verifier.js';
import type { ManifestResult, PermissionManifest } from './manifest.js';
import { requirePermission, type Middleware } from './require-permission.js';

/** Who a token names, once verified (locally, or by Auth answering for it). */
export interface TokenIdentity {
  /** The token's `sub`: the user's or application's id. */
  readonly subject: string;
  /** The organization: `tenantId` (multi-tenant), else the token's `owner`. */
  readonly tenantId: string;
  readonly kind: 'user' | 'application';
  readonly claims: Readonly<JWTPayload & Record<string, unknown>>;
}

export interface Decision {
  readonly allowed: boolean;
  /** Auth's reason for a denial (`permission`, `suspended`, ...). */
  readonly reason?: string;
  /** The tenant's policy revision the decision was made at. */
  readonly revision: number;
  /** Answered from the local cache, without asking Auth. */
  readonly cached: boolean;
  /** Whom the token names (verified locally, or by Auth answering for it). */
  readonly identity: TokenIdentity;
}

export interface CheckOptions {
  /** The end user's address, for the tenant's IP allowlist. */
  readonly clientIp?: string;
  /** Overrides the client's product for this check. */
  readonly product?: string;
  /** Never answer from a revision older than this (e.g. the `X-Policy-Revision` of an Identity write). */
  readonly minRevision?: number;
}

export interface Check extends CheckOptions {
  readonly resource: string;
  readonly action: string;
}

export interface AuthClient {
  readonly enabled: boolean;
  readonly options: Readonly<AuthClientOptions>;
  /** May the token's subject do `action` on `resource`? A denial is a value; no decision is an AuthClientError. */
  authorize(token: string, resource: string, action: string, options?: CheckOptions): Promise<Decision>;
  /** Several checks for one token, in order (cached ones are not asked again). */
  batch(token: string, checks: readonly Check[], options?: { readonly minRevision?: number }): Promise<Decision[]>;
  /** The token's map of resource → allowed actions. */
  permissions(token: string): Promise<Record<string, string[]>>;
  /** The token's identity: verified against Auth's JWKS with `localVerification`, else read (Auth verifies it on every ask). */
  identify(token: string): Promise<TokenIdentity>;
  /** A policy revision seen elsewhere (an Identity write's `X-Policy-Revision`): older cached decisions of the tenant are dropped. */
  noteRevision(tenantId: string, revision: number): void;
  /** The end user's address behind a request, per TRUSTED_PROXIES. */
  clientAddress(req: IncomingMessage): string | undefined;
  /** An access token for the product itself (client_credentials with `credentials`), reused until shortly before it expires. */
  applicationToken(): Promise<string>;
  /** Publishes the product's permission manifest to Identity (`PUT /v1/declarations/{service}`); call it at boot. */
  publishManifest(manifest: PermissionManifest, options?: { readonly token?: string; readonly timeoutMs?: number }): Promise<ManifestResult>;
  /** Express middleware: 401/403/503 problem+json unless Auth allows; see {@link requirePermission}. */
  requirePermission(resource: string, action: string, options?: { readonly product?: string }): Middleware;
  /** For inspection and tests: the cache's keys hold token digests, never tokens. */
  readonly cache: { readonly size: number; keys(): string[] };
  readonly circuit: CircuitBreaker;
  close(): void;
}

const maxBatchChecks = 100;

function identityOf(claims: JWTPayload & Record<string, unknown>, multiTenant: boolean): TokenIdentity {
  const subject = claims.sub;
  const tenant = typeof claims.tenantId === 'string' ? claims.tenantId : multiTenant ? undefined : typeof claims.owner === 'string' ? claims.owner : '';
  if (typeof subject !== 'string' || subject.length === 0 || tenant === undefined) throw new AuthClientError('unauthenticated', 'the token names no subject or tenant');
  return { subject, tenantId: tenant, kind: claims.type === 'application' ? 'application' : 'user', claims };
}

/** The `sub` Auth's `/v1/authorize` expects: `<owner>/<id>` for a person, the id for an application. */
function authorizeSubject(identity: TokenIdentity): string {
  const owner = identity.claims.owner;
  return identity.kind === 'user' && typeof owner === 'string' ? `${owner}/${identity.subject}` : identity.subject;
}

/**
 * The TypeScript sibling of Lerian's Go product client: asks Auth for decisions over keep-alive
 * connections, caches them briefly (keyed by a token digest, the question and the tenant's revision),
 * retries only transient failures within one deadline, stops calling a failing Auth (circuit breaker),
 * and never turns a failure into an allow.
 *
 * @example
 * const auth = createAuthClient({ url: 'http://auth:4000', product: 'ledger' });
 * const { allowed } = await auth.authorize(token, 'accounts', 'get');
 */
export function createAuthClient(options: AuthClientOptions): AuthClient {
  const nowMs = options.nowMs ?? (() => Date.now());
  const multiTenant = options.multiTenant ?? false;
  const breaker = new CircuitBreaker({ failureThreshold: options.circuitBreaker?.failureThreshold ?? 5, openMs: options.circuitBreaker?.openMs ?? 10_000, nowMs });
  const transportOptions = {
    timeoutMs: options.timeoutMs ?? 2_000,
    maxAttempts: options.maxAttempts ?? 3,
    retryBaseDelayMs: options.retryBaseDelayMs ?? 50,
    maxSockets: options.maxSockets ?? 64,
  };
  const auth = new HttpTransport({ ...transportOptions, baseUrl: new URL(options.url), breaker });
  // Identity has its own breaker: a failing Identity must not stop decisions.
  const identityTransport = options.identityUrl
    ? new HttpTransport({ ...transportOptions, baseUrl: new URL(options.identityUrl), breaker: new CircuitBreaker({ failureThreshold: 5, openMs: 10_000, nowMs }) })
    : undefined;
  const cache = new DecisionCache({ maxEntries: options.cacheMaxEntries ?? 10_000, ttlMs: options.cacheTtlMs ?? 5_000, nowMs });
  const clientAddress = createClientAddress(options.trustedProxies ?? []);
  const verifyLocally = options.localVerification
    ? createLocalTokenVerifier({
        jwksUrl: options.localVerification.jwksUrl ?? new URL('/.well-known/jwks', options.url).href,
        issuer: options.localVerification.issuer,
        audience: options.localVerification.audience,
        timeoutMs: transportOptions.timeoutMs,
      })
    : undefined;
  let appToken: { token: string; renewAtMs: number } | undefined;

  // Revisions are per tenant: a token without `tenantId` (single-tenant Auth) belongs to the one tenant ''.
  const partitionOf = (identity: TokenIdentity) => (typeof identity.claims.tenantId === 'string' ? identity.claims.tenantId : '');
  const noteRevision = (tenantId: string, revision: number) => {
    cache.noteRevision(tenantId, revision);
    if (!multiTenant) cache.noteRevision('', revision);
  };

  async function identify(token: string): Promise<TokenIdentity> {
    if (verifyLocally) return identityOf(await verifyLocally(token), multiTenant);
    let claims: JWTPayload;
    try {
      claims = decodeJwt(token);
    } catch {
      throw new AuthClientError('unauthenticated', 'the token is not a JWT');
    }
    return identityOf(claims, multiTenant);
  }

  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
  const questionOf = (check: Check): DecisionQuestion => ({ resource: check.resource, action: check.action, product: check.product ?? options.product, clientIp: check.clientIp });
  const bodyOf = (identity: TokenIdentity, question: DecisionQuestion) => ({
    sub: authorizeSubject(identity),
    resource: question.resource,
    action: question.action,
    ...(question.product !== undefined ? { product: question.product } : {}),
    ...(question.clientIp !== undefined ? { clientIp: question.clientIp } : {}),
  });
  const expiryOf = (identity: TokenIdentity) => (typeof identity.claims.exp === 'number' ? identity.claims.exp * 1000 : undefined);
  const withFloor = (identity: TokenIdentity, minRevision: number | undefined) => {
    if (minRevision !== undefined) cache.noteRevision(partitionOf(identity), minRevision);
    const floor = cache.floorOf(partitionOf(identity));
    return floor > 0 ? { minRevision: floor } : {};
  };

  const client: AuthClient = {
    enabled: options.enabled ?? true,
    options,
    identify,
    clientAddress,
    circuit: breaker,
    cache: {
      get size() {
        return cache.size;
      },
      keys: () => cache.keys(),
    },
    noteRevision,
    requirePermission: (resource, action, middlewareOptions) => requirePermission(client, resource, action, middlewareOptions),

    async authorize(token, resource, action, checkOptions = {}) {
      const identity = await identify(token);
      const digest = cache.tokenDigest(token);
      const question = questionOf({ resource, action, ...checkOptions });
      const floor = withFloor(identity, checkOptions.minRevision);
      const hit = cache.get(digest, partitionOf(identity), question);
      if (hit) return { allowed: hit.allowed, revision: hit.revision, cached: true, identity, ...(hit.reason ? { reason: hit.reason } : {}) };
      const answer = readAnswer(
        await auth.call({ method: 'POST', path: '/v1/authorize', headers: bearer(token), json: { ...bodyOf(identity, question), ...floor } }),
        authorizeAnswer,
        'authorize',
      );
      cache.set(digest, partitionOf(identity), question, { allowed: answer.authorized, reason: answer.reason, revision: answer.revision }, expiryOf(identity));
      return { allowed: answer.authorized, revision: answer.revision, cached: false, identity, ...(answer.reason ? { reason: answer.reason } : {}) };
    },

    async batch(token, checks, batchOptions = {}) {
      const identity = await identify(token);
      const digest = cache.tokenDigest(token);
      const floor = withFloor(identity, batchOptions.minRevision);
      const questions = checks.map(questionOf);
      const decisions: (Decision | undefined)[] = questions.map((question) => {
        const hit = cache.get(digest, partitionOf(identity), question);
        return hit ? { allowed: hit.allowed, revision: hit.revision, cached: true, identity, ...(hit.reason ? { reason: hit.reason } : {}) } : undefined;
      });
      const missing = questions.map((_, index) => index).filter((index) => decisions[index] === undefined);
      for (let start = 0; start < missing.length; start += maxBatchChecks) {
        const chunk = missing.slice(start, start + maxBatchChecks);
        const answer = readAnswer(
          await auth.call({ method: 'POST', path: '/v1/authorize/batch', headers: bearer(token), json: { checks: chunk.map((index) => bodyOf(identity, questions[index]!)), ...floor } }),
          batchAnswer,
          'authorize batch',
        );
        if (answer.results.length !== chunk.length) throw new AuthClientError('unavailable', 'authorize batch: answered a different number of results');
        chunk.forEach((index, position) => {
          const result = answer.results[position]!;
          cache.set(digest, partitionOf(identity), questions[index]!, { allowed: result.authorized, reason: result.reason, revision: answer.revision }, expiryOf(identity));
          decisions[index] = { allowed: result.authorized, revision: answer.revision, cached: false, identity, ...(result.reason ? { reason: result.reason } : {}) };
        });
      }
      return decisions as Decision[];
    },

    async permissions(token) {
      await identify(token);
      return readAnswer(await auth.call({ method: 'GET', path: '/v1/permissions', headers: bearer(token) }), permissionsAnswer, 'permissions');
    },

    async applicationToken() {
      if (appToken && appToken.renewAtMs > nowMs()) return appToken.token;
      if (!options.credentials) throw new Error('applicationToken needs credentials (PLUGIN_AUTH_CLIENT_ID, PLUGIN_AUTH_CLIENT_SECRET)');
      const answer = readAnswer(
        await auth.call({
          method: 'POST',
          path: '/v1/login/oauth/access_token',
          json: { grantType: 'client_credentials', clientId: options.credentials.clientId, clientSecret: options.credentials.clientSecret },
        }),
        tokenAnswer,
        'application token',
      );
      // Renewed at 80 % of its life, so a token is never sent in its last seconds.
      appToken = { token: answer.accessToken, renewAtMs: nowMs() + answer.expiresIn * 800 };
      return answer.accessToken;
    },

    async publishManifest(manifest, publishOptions = {}) {
      if (!identityTransport) throw new Error('publishManifest needs identityUrl (PLUGIN_IDENTITY_ADDRESS)');
      const token = publishOptions.token ?? (await client.applicationToken());
      const result = readAnswer(
        await identityTransport.call({
          method: 'PUT',
          path: `/v1/declarations/${encodeURIComponent(manifest.service)}`,
          headers: bearer(token),
          json: manifest,
          timeoutMs: publishOptions.timeoutMs ?? 10_000,
        }),
        declarationAnswer,
        'publish manifest',
      );
      const identity = await identify(token).catch(() => undefined);
      if (identity) cache.noteRevision(partitionOf(identity), result.policyRevision);
      return result;
    },

    close() {
      auth.close();
      identityTransport?.close();
    },
  };
  return client;
}
