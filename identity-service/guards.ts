import type { Request } from 'express';
import { issuedBeforeCutoff } from '../platform/auth/token-cutoff.js';
import { bearerToken } from '../platform/auth/bearer-token.js';
import type { Caller } from '../platform/auth/caller.js';
import { callerFromToken } from '../platform/auth/caller-from-token.js';
import type { RouteGuards } from '../platform/http/mount-routes.js';
import { ServiceError } from '../platform/http/service-error.js';
import { query } from '../platform/postgres-transaction.js';
import type { IdentityDeps } from './deps.js';

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

interface SubjectRow {
  readonly org_status: string;
  readonly status: string | null;
  readonly valid_after_ms: string | null;
}

/**
 * Identity is protected by the Access Manager itself: a verified token, a subject that still exists and is
 * active in an active organization (and whose tokens were not revoked after this one was issued), and the
 * engine's decision for the route's resource and action.
 */
export function identityGuards(deps: IdentityDeps): RouteGuards {
  return {
    async authenticate(req: Request): Promise<Caller> {
      // Identity never takes a bare token: only `Authorization: Bearer <token>`.
      const token = await deps.tokens.verify(bearerToken(req));
      const caller = callerFromToken(token, deps.tenancy);
      const table = caller.kind === 'application' ? 'applications' : 'users';
      // Ids are uuids: anything else names no subject. Comparing uuid to uuid keeps the primary-key lookup.
      if (!uuidPattern.test(caller.id) || !uuidPattern.test(caller.tenantId)) throw new ServiceError('TOKEN_INVALID', { detail: 'subject or tenant is not an id of ours' });
      const { rows } = await query<SubjectRow>(
        deps.pool,
        // An application has no status of its own: it is active while its row exists (a deleted one is refused).
        `SELECT o.status AS org_status, ${table === 'users' ? 's.status' : "CASE WHEN s.id IS NULL THEN NULL ELSE 'active' END"} AS status,
                (extract(epoch FROM s.tokens_valid_after) * 1000)::text AS valid_after_ms
           FROM organizations o LEFT JOIN ${table} s ON s.org_id = o.id AND s.id = $2::uuid
          WHERE o.id = $1::uuid`,
        [caller.tenantId, caller.id],
      );
      const row = rows[0];
      if (!row || row.status === null) throw new ServiceError('TOKEN_INVALID', { detail: 'subject or organization unknown' });
      if (row.org_status !== 'active') throw new ServiceError('ORGANIZATION_DISABLED');
      if (row.status !== 'active') throw new ServiceError('TOKEN_INVALID', { detail: 'subject disabled' });
      if (issuedBeforeCutoff(caller.claims, Number(row.valid_after_ms))) throw new ServiceError('TOKEN_INVALID', { detail: 'token issued before revocation' });
      return caller;
    },
    async authorize(caller, resource, action) {
      const decision = await deps.engine.decide({ sub: caller.subject, dom: caller.tenantId, obj: resource, act: action });
      if (!decision.allowed) throw new ServiceError('FORBIDDEN', { detail: `${caller.subject} may not ${action} ${resource} (${decision.reason})` });
    },
  };
}
