import type { Request } from 'express';
import { bearerToken } from '../platform/auth/bearer-token.js';
import type { Caller } from '../platform/http/caller.js';
import { callerFromToken } from '../platform/auth/caller-from-token.js';
import type { RouteGuards } from '../platform/http/mount-routes.js';
import { ServiceError } from '../platform/http/service-error.js';
import { callerAddressAttribute, ModelQuestions } from '../platform/authorization/model-questions.js';
import type { IdentityDeps } from './deps.js';
import { identityNetworkOf } from './ip-allowlist-guard.js';
import { tokenCheckOf } from './token-check.js';

/**
 * Identity is protected by the Access Manager itself: a verified token that is still good by the same check Auth's
 * guards run (subject and organization active, session not ended, jti not revoked: see ActiveTokenCheck for the
 * staleness bound), and the engine's decision for the route's resource and action.
 */
export function identityGuards(deps: IdentityDeps): RouteGuards {
  const tokenCheck = tokenCheckOf(deps);
  const questions = new ModelQuestions(deps.engine);
  return {
    async authenticate(req: Request): Promise<Caller> {
      // Identity never takes a bare token: only `Authorization: Bearer <token>`.
      const token = await deps.tokens.verify(bearerToken(req));
      const caller = callerFromToken(token, deps.tenancy);
      await tokenCheck.assertActive(caller);
      return caller;
    },
    async authorize(caller, resource, action, req) {
      // A model that reads a request object sees the caller's address as `ip`, as Auth's questions do.
      const address = req && questions.readsAttributes ? identityNetworkOf(deps).clientAddress(req) : undefined;
      const question = { subject: caller.subject, tenantId: caller.tenantId, resource, action, ...(address === undefined ? {} : { attributes: { [callerAddressAttribute]: address } }) };
      const decision = await questions.decide(question);
      if (!decision.allowed) throw new ServiceError('FORBIDDEN', { detail: `${caller.subject} may not ${action} ${resource} (${decision.reason})` });
    },
  };
}
