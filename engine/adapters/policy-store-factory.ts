import type pg from 'pg';
import type { EngineError } from '../errors.js';
import type { ModelDefinition } from '../model-definition.js';
import type { PolicyStore } from '../ports.js';
import { MemoryPolicyStore } from './memory-policy-store.js';
import { PgPolicyStore } from './pg-policy-store.js';

export interface PolicyStoreOptions {
  /** PostgreSQL (the migrated schema's `casbin`, `policy_revision` and `policy_change` tables); without it the policy lives in memory. */
  readonly pool?: pg.Pool | undefined;
  /**
   * With `pool`: a read replica of its database for the bulk loads, each checked against the primary's
   * revisions (a tenant that differs is read from the primary).
   */
  readonly readPool?: pg.Pool | undefined;
  /** Told when the read replica fails a read (the primary then answers). */
  readonly onReadReplicaError?: (error: EngineError) => void;
  /** The model whose rules the store keeps: it says which field of a rule names its tenant. Default: the shipped model's. */
  readonly model?: Pick<ModelDefinition, 'fastPath' | 'tenantOf'>;
  /** How many revisions of change log each tenant keeps for incremental catch-up. Default 1000. */
  readonly changeLogRevisionsKept?: number;
  /** Statement timeout of a full load, which reads every rule (PostgreSQL). Default 60000. */
  readonly loadAllTimeoutMs?: number;
}

/**
 * The policy store for a deployment, known to the rest of the product only as the `PolicyStore` port: PostgreSQL
 * when a pool is given, else memory.
 *
 * @example
 * const store = createPolicyStore({ pool, model });
 * const engine = await PolicyEngine.start({ model, store });
 */
export function createPolicyStore(options: PolicyStoreOptions = {}): PolicyStore {
  const { pool, model } = options;
  if (!pool) return new MemoryPolicyStore(model?.tenantOf, options.changeLogRevisionsKept);
  return new PgPolicyStore({
    pool,
    ...(options.readPool ? { readPool: options.readPool } : {}),
    ...(options.onReadReplicaError ? { onReadReplicaError: options.onReadReplicaError } : {}),
    // The shipped model's tenant fields are the store's default, which it filters on in SQL.
    ...(model && !model.fastPath ? { tenantOf: model.tenantOf } : {}),
    ...(options.changeLogRevisionsKept === undefined ? {} : { changeLogRevisionsKept: options.changeLogRevisionsKept }),
    ...(options.loadAllTimeoutMs === undefined ? {} : { loadAllTimeoutMs: options.loadAllTimeoutMs }),
  });
}
