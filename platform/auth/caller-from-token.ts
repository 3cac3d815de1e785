import { ServiceError } from '../http/service-error.js';
import { subjectOf, type Caller } from '../http/caller.js';
import type { VerifiedToken } from './token-verifier.js';

export interface TenancyOptions {
  readonly multiTenant: boolean;
  /** The organization every caller belongs to in single-tenant mode. */
  readonly defaultTenantId: string;
}

/**
 * The caller of a verified token. The tenant comes only from the token's `tenantId` claim (multi-tenant) or
 * the configured default organization (single-tenant), never from the request itself.
 */
export function callerFromToken(token: VerifiedToken, tenancy: TenancyOptions): Caller {
  const { claims } = token;
  const kind = claims.type === 'application' ? 'application' : 'user';
  let tenantId = tenancy.defaultTenantId;
  if (tenancy.multiTenant) {
    if (typeof claims.tenantId !== 'string' || claims.tenantId.length === 0 || claims.tenantId.length > 128) {
      throw new ServiceError('TOKEN_INVALID', { detail: 'tenantId claim missing' });
    }
    tenantId = claims.tenantId;
  }
  const id = claims.sub as string;
  return Object.freeze({
    kind,
    id,
    subject: subjectOf(kind, id),
    tenantId,
    tokenId: typeof claims.jti === 'string' ? claims.jti : undefined,
    claims,
  });
}
