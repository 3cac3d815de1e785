import type { AnyRoute } from '../../platform/http/route.js';
import type { AuthDeps } from '../deps.js';

export function tokensRoutes(_deps: AuthDeps): AnyRoute[] {
  return [];
}
