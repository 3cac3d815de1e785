import type { AnyRoute } from '../../platform/http/route.js';
import type { AuthDeps } from '../deps.js';

export function mfaLoginRoutes(_deps: AuthDeps): AnyRoute[] {
  return [];
}
