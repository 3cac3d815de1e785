import type pg from 'pg';
import { ServiceError } from '../platform/http/service-error.js';
import { uniqueViolation } from '../platform/postgres-transaction.js';
import type { WriteContext } from './write-transaction.js';

/** How the names of one kind of a tenant's records (groups, roles) stay unique in canonical form. */
export interface RecordNames {
  readonly kind: 'group' | 'role';
  /** Serialises the tenant's creations and renames of this kind until commit: the check below is then race-free. */
  lock(db: pg.ClientBase, tenantId: string): Promise<void>;
  /** Whether another record of the kind (not `exceptId`) has this name in canonical form (NFKC, case-folded). */
  isTaken(db: pg.ClientBase, tenantId: string, name: string, exceptId?: string): Promise<boolean>;
}

function nameTaken(kind: RecordNames['kind']): ServiceError {
  return new ServiceError('NAME_TAKEN', { message: `a ${kind} with this name exists`, field: 'body.name' });
}

/** Refuses a name another record of the kind has; takes the kind's name lock for the rest of the transaction. */
export async function assertNameFree(tx: WriteContext, names: RecordNames, name: string, exceptId?: string): Promise<void> {
  await names.lock(tx.client, tx.tenantId);
  if (await names.isTaken(tx.client, tx.tenantId, name, exceptId)) throw nameTaken(names.kind);
}

/** Runs a statement that may hit the (org, name) unique index: a concurrent duplicate is NAME_TAKEN too. */
export async function uniqueName<T>(names: RecordNames, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (uniqueViolation(error)) throw nameTaken(names.kind);
    throw error;
  }
}
