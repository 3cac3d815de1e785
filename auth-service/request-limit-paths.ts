import { isProbeOrReference } from '../platform/http/request-rate-limits.js';
import { authorizePath } from './hosted-sign-in/index.js';
import { introspectionPath } from './routes/token-introspection.js';
import { tokenRoutePaths } from './tokens/token-rate-limit.js';

/** The routes the permission-route limit (RATE_LIMIT_PERMISSION_*) counts. */
export const authPermissionPaths: readonly string[] = ['/v1/permissions'];

// Passed by the overall limit: what products call on every request of theirs (the decisions and token
// introspection: a per-address cap would turn a busy product's traffic into "unavailable"), the routes that
// sign in (their own per-address limit, which keeps counting while Valkey is down), public metadata and probes.
const decisionPaths = new Set(['/v1/authorize', '/v1/authorize/batch', '/v1/authorize/explain', introspectionPath]);
const signInPaths = new Set<string>([...tokenRoutePaths, authorizePath, '/v1/login/mfa/challenge', '/v1/login/mfa/verify']);

/** Whether the overall and permission-route limits leave a path alone (wireAuth builds them with this). */
export function isExemptFromAuthLimits(path: string): boolean {
  return decisionPaths.has(path) || signInPaths.has(path) || path.startsWith('/.well-known/') || isProbeOrReference(path);
}
