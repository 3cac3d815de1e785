import type { AnyRoute } from '../../platform/http/route.js';
import type { AuthDeps } from '../deps.js';

export function authorizeRoutes(_deps: AuthDeps): AnyRoute[] {
  return [];
}
