import type pg from 'pg';
import type { PolicyTransaction } from '../ports.js';

/** A `PolicyTransaction` over a PostgreSQL client, and the hook its opener calls once its `COMMIT` succeeded. */
export interface PgPolicyTransaction extends PolicyTransaction {
  /**
   * The transaction committed: runs the after-commit effects registered in it, in order, once. Never call it
   * after a rollback (the effects then never run, which is what a rollback means for them).
   */
  committed(): Promise<void>;
}

class PgTransactionHandle implements PgPolicyTransaction {
  readonly #effects: (() => Promise<void>)[] = [];
  #committed = false;

  constructor(readonly client: pg.ClientBase) {}

  afterCommit(effect: () => Promise<void>): void {
    if (this.#committed) throw new TypeError('the transaction has already committed');
    this.#effects.push(effect);
  }

  async committed(): Promise<void> {
    if (this.#committed) return;
    this.#committed = true;
    for (const effect of this.#effects) await effect();
  }
}

/**
 * The policy handle of `client`'s open transaction (the caller has sent `BEGIN` and will send `COMMIT` or
 * `ROLLBACK`), for the engine's `writeWithin`, `lockTenantWithin` and `rulesOfSubjectWithin`. After a successful
 * `COMMIT` the caller awaits `committed()`, which announces the policy written in it.
 *
 * @example
 * await client.query('BEGIN');
 * const tx = openPgPolicyTransaction(client);
 * await engine.writeWithin(tx, 'acme', [{ op: 'add', rule: { ptype: 'g', values: ['user:1', 'role:viewer', 'acme'] } }]);
 * await client.query('COMMIT');
 * await tx.committed();
 */
export function openPgPolicyTransaction(client: pg.ClientBase): PgPolicyTransaction {
  return new PgTransactionHandle(client);
}

/** The client of a handle made by `openPgPolicyTransaction`; anything else is a programming error. */
export function clientOf(tx: PolicyTransaction): pg.ClientBase {
  if (!(tx instanceof PgTransactionHandle)) throw new TypeError('not a PostgreSQL policy transaction (make one with openPgPolicyTransaction)');
  return tx.client;
}
