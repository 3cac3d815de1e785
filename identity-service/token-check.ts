import { ActiveTokenCheck } from '../platform/auth/active-token-check.js';
import type { IdentityDeps } from './deps.js';

const checks = new WeakMap<IdentityDeps, ActiveTokenCheck>();

/**
 * The token check of one set of deps (one app), built on first use: the guards ask it, and a write that ends
 * sessions tells it to forget the subject's verdicts once committed, so this replica refuses at once.
 */
export function tokenCheckOf(deps: IdentityDeps): ActiveTokenCheck {
  let check = checks.get(deps);
  if (!check) {
    check = new ActiveTokenCheck({ pool: deps.pool, clock: deps.clock });
    checks.set(deps, check);
  }
  return check;
}
