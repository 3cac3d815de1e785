import type pg from 'pg';
import { countOrganizations } from '../directory/organizations.js';
import { countUsers } from '../directory/users.js';
import { ServiceError } from '../platform/http/service-error.js';
import type { IdentityDeps } from './deps.js';

type Counted = 'users' | 'organizations';

// Users are counted from the trigger-kept per-organization counts, so the check does not count every user row.
const counts: Readonly<Record<Counted, (db: pg.ClientBase) => Promise<number>>> = { users: countUsers, organizations: countOrganizations };

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
  const count = await counts[what](client);
  if (count >= limit) {
    throw new ServiceError('LICENSE_LIMIT_REACHED', {
      message: `the license allows ${limit} ${what}; ${count} exist`,
      detail: `license cap ${what}=${limit} reached`,
    });
  }
}
