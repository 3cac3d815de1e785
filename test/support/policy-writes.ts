// Policy written in tests the way Identity and the bootstrap write it in production.
import type pg from 'pg';
import type { PolicyChange, PolicyEngine, WriteResult } from '../../engine/index.js';
import { withTransaction } from '../../platform/postgres-transaction.js';

/**
 * One policy write through the engine's `writeWithin` inside a database transaction, applied and announced by
 * `withTransaction` after the commit (Identity's path without an entity or the no-escalation check).
 */
export function writePolicy(pool: pg.Pool, engine: PolicyEngine, tenantId: string, changes: readonly PolicyChange[]): Promise<WriteResult> {
  return withTransaction(pool, (_client, policy) => engine.writeWithin(policy, tenantId, changes));
}
