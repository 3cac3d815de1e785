import type { Request } from 'express';
import { ServiceError } from '../../platform/http/service-error.js';
import type { Queryable } from '../../platform/postgres-transaction.js';
import { findClientRegistration } from '../../directory/client-registrations.js';
import type { RequestContext } from '../audit/auth-events.js';
import type { ClientCredentials, TokenService } from '../tokens/token-service.js';

/** The client fields of an OAuth endpoint's form body (RFC 6749 2.3.1). */
export interface ClientAuthenticationForm {
  readonly client_id?: string | undefined;
  readonly client_secret?: string | undefined;
}

function formDecode(value: string): string {
  return decodeURIComponent(value.replace(/\+/g, ' '));
}

/**
 * The credentials a request presents, RFC 6749 2.3.1: client_secret_basic (form-urlencoded id and secret in
 * `Authorization: Basic`) or client_secret_post, never both; undefined when it presents no secret at all.
 */
export function clientCredentialsOf(req: Request, form: ClientAuthenticationForm): ClientCredentials | undefined {
  const header = req.headers.authorization;
  if (header !== undefined) {
    if (form.client_secret !== undefined) throw new ServiceError('VALIDATION_FAILED', { message: 'use one client authentication method' });
    const match = /^Basic ([A-Za-z0-9+/=]{1,1200})$/i.exec(header);
    const decoded = match ? Buffer.from(match[1]!, 'base64').toString('utf8') : '';
    const colon = decoded.indexOf(':');
    if (colon < 1) throw new ServiceError('INVALID_CLIENT', { detail: 'malformed Basic client authentication' });
    let clientId: string;
    let clientSecret: string;
    try {
      clientId = formDecode(decoded.slice(0, colon));
      clientSecret = formDecode(decoded.slice(colon + 1));
    } catch {
      throw new ServiceError('INVALID_CLIENT', { detail: 'malformed Basic client authentication' });
    }
    if (clientId.length > 200 || clientSecret.length === 0 || clientSecret.length > 512) throw new ServiceError('INVALID_CLIENT', { detail: 'Basic credentials out of bounds' });
    if (form.client_id !== undefined && form.client_id !== clientId) throw new ServiceError('INVALID_CLIENT', { detail: 'client_id differs from Basic' });
    return { clientId, clientSecret };
  }
  if (form.client_secret !== undefined) {
    if (form.client_id === undefined) throw new ServiceError('INVALID_CLIENT', { detail: 'client_secret without client_id' });
    return { clientId: form.client_id, clientSecret: form.client_secret };
  }
  return undefined;
}

/** A client that proved who it is at the revocation or introspection endpoint. */
export interface AuthenticatedClient {
  readonly applicationId: string;
  readonly clientId: string;
  readonly tenantId: string;
  /** Identified by `client_id` alone: a public client, which has no secret to prove itself with. */
  readonly isPublic: boolean;
}

/**
 * Authenticates the client of a token-management request (RFC 7009 2.1, RFC 7662 2.1): a confidential client
 * by its secret (Basic or form; a wrong one is recorded as a failed client sign-in, like at the token endpoint),
 * a public client by its `client_id` alone where `allowPublic`. A confidential client that leaves its secret out
 * is refused, never taken for a public one.
 */
export async function authenticateEndpointClient(
  parts: { readonly database: Queryable; readonly tokenService: Pick<TokenService, 'authenticateClient'> },
  req: Request,
  form: ClientAuthenticationForm,
  options: { readonly allowPublic: boolean; readonly context: RequestContext },
): Promise<AuthenticatedClient> {
  const credentials = clientCredentialsOf(req, form);
  if (credentials) {
    const app = await parts.tokenService.authenticateClient(credentials, options.context);
    return { applicationId: app.id, clientId: app.clientId, tenantId: app.tenantId, isPublic: false };
  }
  if (options.allowPublic && form.client_id !== undefined) {
    const registration = await findClientRegistration(parts.database, form.client_id).catch((error: unknown) => {
      throw new ServiceError('SERVICE_UNAVAILABLE', { detail: 'client lookup failed', cause: error });
    });
    if (registration?.isPublic) return { applicationId: registration.applicationId, clientId: registration.clientId, tenantId: registration.tenantId, isPublic: true };
  }
  throw new ServiceError('INVALID_CLIENT', { detail: options.allowPublic ? 'no client authentication, and no public client_id' : 'client authentication required' });
}
