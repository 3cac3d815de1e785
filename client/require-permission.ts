import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AuthClient, TokenIdentity } from './auth-client.js';
import { isAuthClientError, type AuthClientError } from './errors.js';
import { sendProblem, type ClientProblem } from './problem.js';

/** What the middleware puts on a request it let through. */
export interface RequestAuth extends TokenIdentity {
  /** The policy revision the decision was made at. */
  readonly revision: number;
}

/** A request that passed `requirePermission`: an express `Request`, or any `IncomingMessage`. */
export type AuthenticatedRequest<R extends IncomingMessage = IncomingMessage> = R & { auth: RequestAuth };

/**
 * A connect-style middleware: express, connect and plain `http` handler chains take it. Typed on Node's own
 * request and response, so a product needs no framework's types to use it.
 */
export type Middleware = (req: IncomingMessage, res: ServerResponse, next: (error?: unknown) => void) => void;

/** The verified subject and tenant of a request that passed `requirePermission` (undefined otherwise). */
export function authOf(req: IncomingMessage): RequestAuth | undefined {
  return (req as Partial<AuthenticatedRequest>).auth;
}

const bearer = /^Bearer[ ]+([A-Za-z0-9\-._~+/]+=*)$/i;
const problemOfKind: Record<AuthClientError['kind'], ClientProblem> = {
  unauthenticated: 'TOKEN_INVALID',
  forbidden: 'FORBIDDEN',
  not_found: 'NOT_FOUND',
  unavailable: 'UNAVAILABLE',
};

/**
 * Express middleware: the request's bearer token must be allowed `action` on `resource` by Auth. Missing or
 * refused token → 401, denied → 403, Auth unreachable or failing → 503 (problem+json); only an allow calls
 * `next()`, with the verified subject and tenant on `req.auth`. The end user's address (TRUSTED_PROXIES)
 * goes to Auth as `clientIp` for the tenant's IP allowlist. With `PLUGIN_AUTH_ENABLED=false` every request
 * passes.
 */
export function requirePermission(client: AuthClient, resource: string, action: string, options: { readonly product?: string } = {}): Middleware {
  return (req, res, next) => {
    if (!client.enabled) {
      next();
      return;
    }
    const match = bearer.exec(req.headers.authorization ?? '');
    if (!match) {
      sendProblem(res, 'TOKEN_MISSING', 'a Bearer token is required');
      return;
    }
    const token = match[1]!;
    const clientIp = client.clientAddress(req);
    if (clientIp === undefined) {
      sendProblem(res, 'CLIENT_ADDRESS_UNKNOWN', 'the forwarded client address is not an IP address');
      return;
    }
    client.authorize(token, resource, action, { clientIp, ...(options.product ? { product: options.product } : {}) }).then(
      (decision) => {
        if (!decision.allowed) {
          sendProblem(res, 'FORBIDDEN', `not permitted to ${action} ${resource}`);
          return;
        }
        (req as AuthenticatedRequest).auth = { ...decision.identity, revision: decision.revision };
        next();
      },
      (error: unknown) => {
        // Anything unexpected is a 503 too: a failure never becomes an allow, and never reaches next().
        if (!isAuthClientError(error)) {
          sendProblem(res, 'UNAVAILABLE', 'authorization failed');
          return;
        }
        if (error.kind === 'unavailable') sendProblem(res, 'UNAVAILABLE', 'authorization is unavailable');
        else sendProblem(res, problemOfKind[error.kind], error.message, error.code);
      },
    );
  };
}
