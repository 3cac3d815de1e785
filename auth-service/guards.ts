import type { PolicyEngine } from '../engine/index.js';
import type { ActiveTokenCheck } from '../platform/auth/active-token-check.js';
import { bearerToken } from '../platform/auth/bearer-token.js';
import { callerFromToken, type TenancyOptions } from '../platform/auth/caller-from-token.js';
import type { TokenVerifier } from '../platform/auth/token-verifier.js';
import type { Caller } from '../platform/http/caller.js';
import type { createClientAddress } from '../platform/http/client-address.js';
import type { RouteGuards } from '../platform/http/mount-routes.js';
import { ServiceError } from '../platform/http/service-error.js';
import { ModelQuestions } from '../platform/authorization/model-questions.js';
import { withCallerAddress } from './authorization/request-attributes.js';

/** What the guards need: the verifier of our access tokens, the tenancy rule, the token check and the engine. */
export interface AuthGuardParts {
  readonly tokens: TokenVerifier;
  readonly tenancy: TenancyOptions;
  readonly tokenCheck: Pick<ActiveTokenCheck, 'assertActive'>;
  readonly engine: PolicyEngine;
  /** The client address of a request: a model that reads request attributes sees it as `ip`. */
  readonly clientAddress: ReturnType<typeof createClientAddress>;
}

/**
 * The guards of every protected Auth route: the token verified by the platform verifier (signature against
 * our keys, RS256 only, `iss`, `aud`, `typ at+jwt`, `exp`/`nbf` with 30 s skew, cached by digest until `exp`),
 * `tenantId` required in multi-tenant mode, then whether the token is still good (subject and organization active,
 * session not ended, jti not revoked: see ActiveTokenCheck, shared with Identity, for the staleness bound).
 */
export function createAuthGuards(parts: AuthGuardParts): RouteGuards {
  const questions = new ModelQuestions(parts.engine);
  return {
    async authenticate(req, options): Promise<Caller> {
      const token = await parts.tokens.verify(bearerToken(req, options));
      const caller = callerFromToken(token, parts.tenancy);
      await parts.tokenCheck.assertActive(caller);
      return caller;
    },
    async authorize(caller, resource, action, req) {
      const attributes = req && questions.readsAttributes ? withCallerAddress(undefined, parts.clientAddress(req)) : undefined;
      const decision = await questions.decide({ subject: caller.subject, tenantId: caller.tenantId, resource, action, ...(attributes ? { attributes } : {}) });
      if (!decision.allowed) throw new ServiceError('FORBIDDEN', { detail: `${caller.subject} may not ${action} ${resource}` });
    },
  };
}
