import type { AnyRoute } from '../../platform/http/route.js';
import type { AuthDeps } from '../deps.js';

export function wellKnownRoutes(_deps: AuthDeps): AnyRoute[] {
  return [];
}
