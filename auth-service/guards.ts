import { ActiveTokenCheck } from '../platform/auth/active-token-check.js';
import { bearerToken } from '../platform/auth/bearer-token.js';
import type { Caller } from '../platform/http/caller.js';
import { callerFromToken } from '../platform/auth/caller-from-token.js';
import type { Cidr } from '../platform/cidr.js';
import type { RouteGuards } from '../platform/http/mount-routes.js';
import { ServiceError } from '../platform/http/service-error.js';
import { ModelQuestions } from '../platform/authorization/model-questions.js';
import { withCallerAddress } from './authorization/request-attributes.js';
import { IpAllowlists } from './authorization/ip-allowlist.js';
import { createClientAddress, parseRanges } from '../platform/http/client-address.js';
import type { AuthDeps } from './deps.js';

/** Per-app state the guards and the routes share (caches, parsed address ranges). */
export interface AuthRuntime {
  readonly tokenCheck: ActiveTokenCheck;
  readonly ipAllowlists: IpAllowlists;
  readonly clientAddress: ReturnType<typeof createClientAddress>;
  readonly platformInternal: readonly Cidr[];
}

const runtimes = new WeakMap<AuthDeps, AuthRuntime>();

/** The runtime of one set of deps (one app), built on first use; throws on unusable address settings. */
export function authRuntimeOf(deps: AuthDeps): AuthRuntime {
  let runtime = runtimes.get(deps);
  if (!runtime) {
    runtime = Object.freeze({
      tokenCheck: new ActiveTokenCheck({ pool: deps.pool, clock: { nowMs: () => deps.nowMs() } }),
      ipAllowlists: new IpAllowlists({ pool: deps.pool }),
      clientAddress: createClientAddress(deps.settings.trustedProxies),
      platformInternal: parseRanges('PLATFORM_INTERNAL_CIDRS', deps.settings.platformInternalCidrs),
    });
    runtimes.set(deps, runtime);
  }
  return runtime;
}

/**
 * The guards of every protected Auth route: the token verified by the platform verifier (signature against
 * our keys, RS256 only, `iss`, `aud`, `typ at+jwt`, `exp`/`nbf` with 30 s skew, cached by digest until `exp`),
 * `tenantId` required in multi-tenant mode, then whether the token is still good (subject and organization active,
 * session not ended, jti not revoked: see ActiveTokenCheck, shared with Identity, for the staleness bound).
 */
export function createAuthGuards(deps: AuthDeps): RouteGuards {
  const runtime = authRuntimeOf(deps);
  const questions = new ModelQuestions(deps.engine);
  return {
    async authenticate(req, options): Promise<Caller> {
      const token = await deps.tokens.verify(bearerToken(req, options));
      const caller = callerFromToken(token, deps.tenancy);
      await runtime.tokenCheck.assertActive(caller);
      return caller;
    },
    async authorize(caller, resource, action, req) {
      const attributes = req && questions.readsAttributes ? withCallerAddress(undefined, runtime.clientAddress(req)) : undefined;
      const decision = await questions.decide({ subject: caller.subject, tenantId: caller.tenantId, resource, action, ...(attributes ? { attributes } : {}) });
      if (!decision.allowed) throw new ServiceError('FORBIDDEN', { detail: `${caller.subject} may not ${action} ${resource}` });
    },
  };
}
