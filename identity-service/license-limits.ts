import type pg from 'pg';
import { ServiceError } from '../platform/http/service-error.js';
import type { IdentityDeps } from './deps.js';

type Counted = 'users' | 'organizations';

const counts: Readonly<Record<Counted, string>> = {
  // Kept by trigger (migration 0004), so the check does not count every user row.
  users: 'SELECT coalesce(sum(users), 0)::float8 AS n FROM organization_user_counts',
  organizations: 'SELECT count(*)::float8 AS n FROM organizations',
};

/**
 * Refuses a create that would take the installation past its license's cap (`maxUsers`, `maxOrganizations`;
 * absent means unlimited). Runs inside the creating transaction, after a cluster-wide advisory lock on the
 * count, so replicas creating at the same moment cannot pass the cap together.
 */
export async function assertWithinLicense(deps: Pick<IdentityDeps, 'license'>, client: pg.ClientBase, what: Counted): Promise<void> {
  const limits = deps.license?.limits;
  const limit = what === 'users' ? limits?.maxUsers : limits?.maxOrganizations;
  if (limit === undefined) return;
  await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`access-manager:license:${what}`]);
  const { rows } = await client.query<{ n: number }>(counts[what]);
  const count = rows[0]?.n ?? 0;
  if (count >= limit) {
    throw new ServiceError('LICENSE_LIMIT_REACHED', {
      message: `the license allows ${limit} ${what}; ${count} exist`,
      detail: `license cap ${what}=${limit} reached`,
    });
  }
}
