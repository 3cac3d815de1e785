import type { AnyRoute } from '../../platform/http/route.js';
import type { IdentityDeps } from '../deps.js';

export function ipAllowlistsRoutes(_deps: IdentityDeps): AnyRoute[] {
  return [];
}
