import type pg from 'pg';
import { EngineError, isEngineError } from '../errors.js';
import type {
  PolicyChange,
  PolicyRule,
  PolicySnapshot,
  RevisionChanges,
  TenantSnapshot,
  WriteResult,
} from '../policy-rule.js';
import type { PolicyStore, PolicyTransaction } from '../ports.js';
import { GuardedCasbinPgAdapter, loadCasbinPgAdapterClass } from './guarded-casbin-pg-adapter.js';
import { isPgConnectionError, sqlStateOf } from './pg-connection-error.js';
import { clientOf, openPgPolicyTransaction, type PgPolicyTransaction } from './pg-policy-transaction.js';
import { assertStorableRule } from '../storable-rule.js';

export interface PgPolicyStoreOptions {
  readonly pool: pg.Pool;
  /**
   * A pool on a read replica of `pool`'s database, for the bulk reads (`loadAll`, `loadTenant`). What it returns
   * is checked against the primary's revisions, and every tenant whose revision differs is read from the
   * primary, so a lagging replica never hands the engine an older policy than the primary's. Everything else
   * (writes, the change log, revisions, the casbin adapter) reads the primary.
   */
  readonly readPool?: pg.Pool;
  /** Told when the read replica fails a read; the read is then served by the primary. */
  readonly onReadReplicaError?: (error: EngineError) => void;
  /** The tenant a rule belongs to. Default: `values[1]` for `p*` lines, `values[2]` for `g*` lines. */
  readonly tenantOf?: (rule: PolicyRule) => string | undefined;
  /** How many revisions of change log each tenant keeps for incremental catch-up. Default 1000. */
  readonly changeLogRevisionsKept?: number;
  /** Statement timeout of a full load (`loadAll`), which reads every rule. Default 60000. */
  readonly loadAllTimeoutMs?: number;
}

/**
 * The tenant of a rule under the default model: the domain is the second field of a policy line
 * (`p, sub, dom, obj, act, eft`) and the third of a grouping line (`g, user, role, dom`).
 */
export function defaultTenantOf(rule: PolicyRule): string | undefined {
  if (rule.ptype.startsWith('p')) return rule.values[1];
  if (rule.ptype.startsWith('g')) return rule.values[2];
  return undefined;
}

interface RuleRow {
  readonly ptype: string;
  readonly rule: string[];
}

// With its id, the primary's order of rules is kept when a replica's load is patched with the primary's tenants.
interface IdRuleRow extends RuleRow {
  readonly id: number;
}

type OrderedRules = { readonly ids: readonly number[]; readonly rules: readonly PolicyRule[] };

interface TenantPolicyRow {
  readonly id: number | null;
  readonly ptype: string | null;
  readonly rule: string[] | null;
  readonly revision: string | null;
}

interface RevisionRow {
  readonly tenant_id: string;
  readonly revision: string;
}

interface ChangeLogRow {
  readonly is_log: boolean;
  readonly revision: string;
  readonly changes: PolicyChange[] | null;
}

type Transaction<T> = (client: pg.PoolClient) => Promise<{ readonly commit: boolean; readonly value: T }>;

const readSnapshot = 'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY';
// Beyond this many tenants differing from the primary, a replica's full load is thrown away for the primary's.
const maxTenantsPatchedFromPrimary = 100;

// The INSERT's RETURNING and the DELETE's RETURNING list exactly the rows that changed: those are the
// effective changes that bump the revision and go to the change log.
const insertRules = `
  INSERT INTO casbin (ptype, rule)
  SELECT ptype, rule FROM unnest($1::text[], $2::jsonb[]) WITH ORDINALITY AS r(ptype, rule, n) ORDER BY n
  ON CONFLICT (ptype, rule) DO NOTHING
  RETURNING ptype, rule`;
const deleteRules = `
  DELETE FROM casbin c USING unnest($1::text[], $2::jsonb[]) AS r(ptype, rule)
  WHERE c.ptype = r.ptype AND c.rule = r.rule
  RETURNING c.ptype, c.rule`;
// One statement, so one snapshot and one round trip: the tenant's revision (the row without an id, first), then
// its lines in order. The CASE is defaultTenantOf and exactly the expression of idx_casbin_tenant
// (migrations/0018_casbin_tenant_index.sql), so the lines are one range of that index.
const selectTenantPolicy = `
  SELECT NULL::integer AS id, NULL::text AS ptype, NULL::jsonb AS rule,
         coalesce((SELECT revision FROM policy_revision WHERE tenant_id = $1), 0) AS revision
  UNION ALL
  SELECT id, ptype, rule, NULL FROM casbin
  WHERE (CASE WHEN starts_with(ptype, 'p') THEN rule->>1 WHEN starts_with(ptype, 'g') THEN rule->>2 END) = $1
  ORDER BY id NULLS FIRST`;
// A custom tenantOf cannot be put in SQL: every line is read and filtered here (still one statement).
const selectEveryLineWithRevision = `
  SELECT NULL::integer AS id, NULL::text AS ptype, NULL::jsonb AS rule,
         coalesce((SELECT revision FROM policy_revision WHERE tenant_id = $1), 0) AS revision
  UNION ALL
  SELECT id, ptype, rule, NULL FROM casbin
  ORDER BY id NULLS FIRST`;
// One statement, so one snapshot: the current revision and the log after `$2`.
const selectChangeLog = `
  SELECT false AS is_log, revision, NULL::jsonb AS changes FROM policy_revision WHERE tenant_id = $1
  UNION ALL
  SELECT true, revision, changes FROM policy_change WHERE tenant_id = $1 AND revision > $2
  ORDER BY is_log, revision`;
// Lines whose subject (first field) is $2 in tenant $1 under the default layout: rule->>0 and the tenant field are indexed.
const selectSubjectRules = `
  SELECT ptype, rule FROM casbin
  WHERE rule->>0 = $2 AND ((starts_with(ptype, 'p') AND rule->>1 = $1) OR (starts_with(ptype, 'g') AND rule->>2 = $1))
  ORDER BY id`;
const selectMatchingRules = `
  SELECT ptype, rule FROM casbin c
  WHERE ptype = $1 AND NOT EXISTS (
    SELECT 1 FROM unnest($2::int[], $3::text[]) AS f(i, v) WHERE (c.rule->>f.i) IS DISTINCT FROM f.v
  )
  ORDER BY id`;

/**
 * The PostgreSQL `PolicyStore`: rules in the `casbin` table (the layout casbin-pg-adapter reads), a revision per
 * tenant in `policy_revision`, the change log in `policy_change` (see `migrations/0001_policy.sql`). A write locks
 * its tenant's revision row, so a tenant's writes are serialised and get consecutive revisions; reads take one
 * snapshot, so rules and revision are never seen apart. Outside `engine/adapters/` it is built by
 * `createPolicyStore` and known only as the `PolicyStore` port.
 *
 * @example
 * const store = new PgPolicyStore({ pool });
 * const { revision } = await store.applyChanges('acme', [
 *   { op: 'add', rule: { ptype: 'p', values: ['role:admin', 'acme', 'accounts/*', '*', 'allow'] } },
 * ]);
 */
export class PgPolicyStore implements PolicyStore {
  readonly #pool: pg.Pool;
  readonly #readPool: pg.Pool | undefined;
  readonly #onReadReplicaError: (error: EngineError) => void;
  readonly #tenantOf: (rule: PolicyRule) => string | undefined;
  readonly #loadAllTimeoutMs: number;
  readonly #filtersTenantInSql: boolean;
  readonly #changeLogRevisionsKept: number;

  constructor(options: PgPolicyStoreOptions) {
    const kept = options.changeLogRevisionsKept ?? 1_000;
    if (!Number.isSafeInteger(kept) || kept < 1) throw new RangeError('changeLogRevisionsKept must be a positive integer');
    this.#pool = options.pool;
    this.#readPool = options.readPool;
    this.#onReadReplicaError = options.onReadReplicaError ?? (() => undefined);
    this.#tenantOf = options.tenantOf ?? defaultTenantOf;
    this.#loadAllTimeoutMs = Math.max(1, Math.trunc(options.loadAllTimeoutMs ?? 60_000));
    this.#filtersTenantInSql = options.tenantOf === undefined;
    this.#changeLogRevisionsKept = kept;
  }

  /** The tenant a rule belongs to, as this store decides it. */
  tenantOf(rule: PolicyRule): string | undefined {
    return this.#tenantOf(rule);
  }

  async loadAll(): Promise<PolicySnapshot> {
    const replica = this.#readPool && (await this.#fromReplica(() => this.#readAll(this.#readPool as pg.Pool)));
    if (!replica) return withoutIds(await this.#readAll(this.#pool));
    // After the replica's snapshot: every revision committed before this read is at least what the load returns.
    const current = await this.revisions();
    const differing = new Set<string>();
    for (const [tenantId, revision] of current) if ((replica.revisions.get(tenantId) ?? 0) !== revision) differing.add(tenantId);
    for (const [tenantId, revision] of replica.revisions) if ((current.get(tenantId) ?? 0) !== revision) differing.add(tenantId);
    if (differing.size === 0) return withoutIds(replica);
    // Far behind: one full read of the primary costs less than a read per tenant.
    if (differing.size > maxTenantsPatchedFromPrimary) return withoutIds(await this.#readAll(this.#pool));
    const revisions = new Map(replica.revisions);
    const kept: [number, PolicyRule][] = [];
    replica.rules.forEach((rule, i) => {
      const tenantId = this.#tenantOf(rule);
      if (tenantId === undefined || !differing.has(tenantId)) kept.push([replica.ids[i] as number, rule]);
    });
    for (const tenantId of differing) {
      const fresh = await this.#readTenant(this.#pool, tenantId);
      if (fresh.revision === 0 && fresh.rules.length === 0 && !current.has(tenantId)) revisions.delete(tenantId);
      else revisions.set(tenantId, fresh.revision);
      fresh.rules.forEach((rule, i) => kept.push([fresh.ids[i] as number, rule]));
    }
    kept.sort((a, b) => a[0] - b[0]);
    return { revisions, rules: kept.map(([, rule]) => rule) };
  }

  async loadTenant(tenantId: string): Promise<TenantSnapshot> {
    const replica = this.#readPool && (await this.#fromReplica(() => this.#readTenant(this.#readPool as pg.Pool, tenantId)));
    // The primary's revision, read after the replica's snapshot: a replica that differs is not used.
    if (replica && replica.revision === (await this.#currentRevision(tenantId, 'loadTenant'))) return { tenantId, revision: replica.revision, rules: replica.rules };
    const primary = await this.#readTenant(this.#pool, tenantId);
    return { tenantId, revision: primary.revision, rules: primary.rules };
  }

  async #readAll(pool: pg.Pool): Promise<OrderedRules & { readonly revisions: Map<string, number> }> {
    return this.#transaction('loadAll', readSnapshot, async (client) => {
      // A full load reads every rule (a million at the largest measured size): allow it more than one statement's budget.
      await client.query(`SET LOCAL statement_timeout = ${this.#loadAllTimeoutMs}`);
      const revisionRows = await client.query<RevisionRow>('SELECT tenant_id, revision FROM policy_revision');
      const ruleRows = await client.query<IdRuleRow>('SELECT id, ptype, rule FROM casbin ORDER BY id');
      const revisions = new Map<string, number>();
      for (const row of revisionRows.rows) revisions.set(row.tenant_id, Number(row.revision));
      const rules = ruleRows.rows.map(toPolicyRule);
      // A tenant whose rules were written without the store (seed SQL, another tool) has no revision row yet.
      for (const rule of rules) {
        const tenantId = this.#tenantOf(rule);
        if (tenantId !== undefined && !revisions.has(tenantId)) revisions.set(tenantId, 0);
      }
      return { commit: true, value: { revisions, rules, ids: ruleRows.rows.map((row) => row.id) } };
    }, pool);
  }

  /** One statement (no transaction around it: a statement is its own snapshot), one round trip. */
  async #readTenant(pool: pg.Pool, tenantId: string): Promise<OrderedRules & { readonly revision: number }> {
    let result: pg.QueryResult<TenantPolicyRow>;
    try {
      result = await pool.query<TenantPolicyRow>(this.#filtersTenantInSql ? selectTenantPolicy : selectEveryLineWithRevision, [tenantId]);
    } catch (error) {
      throw storeError('loadTenant', error);
    }
    const [head, ...lines] = result.rows;
    let rows = lines as IdRuleRow[];
    if (!this.#filtersTenantInSql) rows = rows.filter((row) => this.#tenantOf(toPolicyRule(row)) === tenantId);
    return { revision: Number(head?.revision ?? 0), rules: rows.map(toPolicyRule), ids: rows.map((row) => row.id) };
  }

  /** A read of the replica, or undefined when it failed (reported; the caller reads the primary instead). */
  async #fromReplica<T>(read: () => Promise<T>): Promise<T | undefined> {
    try {
      return await read();
    } catch (error) {
      this.#onReadReplicaError(storeError('read replica', error));
      return undefined;
    }
  }

  /**
   * A validated batch in a transaction of its own, committed only when a rule changed. For writers without an
   * engine (the casbin adapter's) and for tests standing in for another process; nothing is announced.
   */
  async applyChanges(tenantId: string, changes: readonly PolicyChange[]): Promise<WriteResult> {
    changes.forEach((change, index) => this.#assertWritable(tenantId, change, index));
    if (changes.length === 0) {
      return { tenantId, revision: await this.#currentRevision(tenantId, 'applyChanges'), changed: false };
    }
    return this.#transaction<WriteResult>('applyChanges', 'BEGIN', (client) => this.#applyWithin(client, tenantId, changes));
  }

  async transaction<T>(work: (tx: PolicyTransaction) => Promise<T>): Promise<T> {
    let committed: PgPolicyTransaction | undefined;
    let failure: { readonly error: unknown } | undefined;
    const value = await this.#withClient('transaction', async (client, markBroken) => {
      await client.query('BEGIN');
      const tx = openPgPolicyTransaction(client);
      let value: T;
      try {
        value = await work(tx);
      } catch (error) {
        failure = { error };
        // A session whose rollback fails is in an unknown state: never reuse it.
        await client.query('ROLLBACK').catch(markBroken);
        throw error;
      }
      await client.query('COMMIT');
      committed = tx;
      return value;
    }).catch((error: unknown) => {
      // The work's own failure goes back as it was; only the store's (connect, BEGIN, COMMIT) is POLICY_STORE_UNAVAILABLE.
      throw failure ? failure.error : error;
    });
    await committed?.committed();
    return value;
  }

  /**
   * Inside the caller's open transaction, so an entity change (a role deleted) and its policy change commit or
   * roll back together. The engine has validated `changes` (`PolicyEngine.writeWithin`, the only caller).
   * Nothing is committed here; when `changed` is false the caller's own writes may still commit.
   */
  async applyChangesWithin(tx: PolicyTransaction, tenantId: string, changes: readonly PolicyChange[]): Promise<WriteResult> {
    const client = clientOf(tx);
    try {
      if (changes.length === 0) return { tenantId, revision: await this.#revisionWithin(client, tenantId), changed: false };
      return (await this.#applyWithin(client, tenantId, changes)).value;
    } catch (error) {
      throw storeError('applyChangesWithin', error);
    }
  }

  /**
   * Under the tenant's write lock (as `applyChangesWithin` takes it), so until the caller commits no other writer
   * can add a line of the subject that this read would miss.
   *
   * @example
   * const lines = await store.rulesOfSubjectWithin(tx, 'acme', 'user:42');
   * await engine.writeWithin(tx, 'acme', lines.map((rule) => ({ op: 'remove', rule })));
   */
  async rulesOfSubjectWithin(tx: PolicyTransaction, tenantId: string, subject: string): Promise<PolicyRule[]> {
    const client = clientOf(tx);
    try {
      await this.#lockTenant(client, tenantId);
      if (this.#filtersTenantInSql) return (await client.query<RuleRow>(selectSubjectRules, [tenantId, subject])).rows.map(toPolicyRule);
      const { rows } = await client.query<RuleRow>(
        "SELECT ptype, rule FROM casbin WHERE rule->>0 = $1 AND (starts_with(ptype, 'p') OR starts_with(ptype, 'g')) ORDER BY id",
        [subject],
      );
      return rows.map(toPolicyRule).filter((rule) => this.#tenantOf(rule) === tenantId);
    } catch (error) {
      throw storeError('rulesOfSubjectWithin', error);
    }
  }

  /**
   * The revision answered is the committed one (or this transaction's own, after it wrote).
   *
   * @example
   * const revision = await store.lockTenantWithin(tx, 'acme');
   * // bring the engine to `revision`, check the write against it, then write in the same transaction
   */
  async lockTenantWithin(tx: PolicyTransaction, tenantId: string): Promise<number> {
    const client = clientOf(tx);
    try {
      return await this.#lockTenant(client, tenantId);
    } catch (error) {
      throw storeError('lockTenantWithin', error);
    }
  }

  /** Serialises the tenant's writers until the transaction ends; the insert makes a first write lockable too. */
  async #lockTenant(client: pg.ClientBase, tenantId: string): Promise<number> {
    // A concurrent first writer waits on the unique index, then sees the committed row.
    await client.query('INSERT INTO policy_revision (tenant_id, revision) VALUES ($1, 0) ON CONFLICT (tenant_id) DO NOTHING', [tenantId]);
    const locked = await client.query<Pick<RevisionRow, 'revision'>>('SELECT revision FROM policy_revision WHERE tenant_id = $1 FOR UPDATE', [tenantId]);
    return Number(locked.rows[0]?.revision ?? 0);
  }

  async #revisionWithin(client: pg.ClientBase, tenantId: string): Promise<number> {
    const { rows } = await client.query<Pick<RevisionRow, 'revision'>>('SELECT revision FROM policy_revision WHERE tenant_id = $1', [tenantId]);
    return Number(rows[0]?.revision ?? 0);
  }

  async #applyWithin(
    client: pg.ClientBase,
    tenantId: string,
    changes: readonly PolicyChange[],
  ): Promise<{ readonly commit: boolean; readonly value: WriteResult }> {
      const current = await this.#lockTenant(client, tenantId);
      const effective: PolicyChange[] = [];
      // Consecutive changes of one kind go in one statement; order matters only between an add and a remove.
      for (const run of runsOfSameOp(changes)) {
        const result = await client.query<RuleRow>(run.op === 'add' ? insertRules : deleteRules, [
          run.changes.map((change) => change.rule.ptype),
          run.changes.map((change) => JSON.stringify(change.rule.values)),
        ]);
        for (const row of result.rows) effective.push({ op: run.op, rule: toPolicyRule(row) });
      }
      if (effective.length === 0) return { commit: false, value: { tenantId, revision: current, changed: false } };
      const revision = current + 1;
      await client.query('UPDATE policy_revision SET revision = $2, updated_at = now() WHERE tenant_id = $1', [
        tenantId,
        revision,
      ]);
      await client.query('INSERT INTO policy_change (tenant_id, revision, changes) VALUES ($1, $2, $3::jsonb)', [
        tenantId,
        revision,
        JSON.stringify(effective),
      ]);
      await client.query('DELETE FROM policy_change WHERE tenant_id = $1 AND revision <= $2', [
        tenantId,
        revision - this.#changeLogRevisionsKept,
      ]);
      return { commit: true, value: { tenantId, revision, changed: true } };
  }

  async changesSince(tenantId: string, afterRevision: number): Promise<readonly RevisionChanges[] | undefined> {
    if (!Number.isSafeInteger(afterRevision) || afterRevision < 0) {
      throw new EngineError('INVALID_REQUEST', 'afterRevision must be a non-negative integer', {
        field: 'afterRevision',
      });
    }
    const { rows } = await this.#query<ChangeLogRow>('changesSince', selectChangeLog, [tenantId, afterRevision]);
    const current = rows[0] !== undefined && !rows[0].is_log ? Number(rows[0].revision) : 0;
    if (current <= afterRevision) return [];
    const log: RevisionChanges[] = [];
    for (const row of rows) {
      if (!row.is_log) continue;
      const revision = Number(row.revision);
      // Pruned (or otherwise missing) revisions: the caller must reload the tenant instead.
      if (revision !== afterRevision + log.length + 1) return undefined;
      log.push({ tenantId, revision, changes: (row.changes ?? []).map(toPolicyChange) });
    }
    return log.length === current - afterRevision ? log : undefined;
  }

  /** Tenants never written through a store (rules seeded by SQL) have no entry: their revision is 0. */
  async revisions(tenantIds?: readonly string[]): Promise<ReadonlyMap<string, number>> {
    const { rows } =
      tenantIds === undefined
        ? await this.#query<RevisionRow>('revisions', 'SELECT tenant_id, revision FROM policy_revision', [])
        : await this.#query<RevisionRow>('revisions', 'SELECT tenant_id, revision FROM policy_revision WHERE tenant_id = ANY($1::text[])', [tenantIds]);
    return new Map(rows.map((row) => [row.tenant_id, Number(row.revision)]));
  }

  /**
   * casbin-pg-adapter 1.4 on this store's pool, for plain-casbin consumers: filtered loading enabled, its own
   * migrations off (they leave an advisory lock held and create a conflicting unique index), writes routed
   * through this store. See `GuardedCasbinPgAdapter` for what is refused.
   *
   * @example
   * const adapter = await new PgPolicyStore({ pool }).casbinAdapter();
   * // casbin's own enforcer on the stored policy: newEnforcer(newModelFromString(modelText), adapter)
   */
  async casbinAdapter(): Promise<GuardedCasbinPgAdapter> {
    const PostgresAdapter = await loadCasbinPgAdapterClass();
    const inner = await PostgresAdapter.newAdapter({
      migrate: false,
      dbClient: (exec) => this.#withClient('casbin adapter', exec),
    });
    inner.enabledFiltered(true);
    return new GuardedCasbinPgAdapter(inner, {
      tenantOf: (rule) => this.#tenantOf(rule),
      applyChanges: (tenantId, changes) => this.applyChanges(tenantId, changes),
      rulesMatching: (ptype, fieldIndex, fieldValues) => this.#rulesMatching(ptype, fieldIndex, fieldValues),
    });
  }

  async #rulesMatching(ptype: string, fieldIndex: number, fieldValues: readonly string[]): Promise<PolicyRule[]> {
    const indexes: number[] = [];
    const values: string[] = [];
    fieldValues.forEach((value, i) => {
      if (typeof value === 'string' && value !== '') {
        indexes.push(fieldIndex + i);
        values.push(value);
      }
    });
    const { rows } = await this.#query<RuleRow>('removeFilteredPolicy', selectMatchingRules, [ptype, indexes, values]);
    return rows.map(toPolicyRule);
  }

  #assertWritable(tenantId: string, change: PolicyChange, index: number): void {
    const field = `changes[${index}]`;
    if (change?.op !== 'add' && change?.op !== 'remove') {
      throw new EngineError('INVALID_RULE', 'op must be add or remove', { field: `${field}.op` });
    }
    assertStorableRule(change.rule, `${field}.rule`);
    if (this.#tenantOf(change.rule) !== tenantId) {
      throw new EngineError('INVALID_RULE', 'the rule belongs to another tenant than the one written', {
        field: `${field}.rule`,
      });
    }
  }

  async #currentRevision(tenantId: string, operation: string): Promise<number> {
    const { rows } = await this.#query<Pick<RevisionRow, 'revision'>>(
      operation,
      'SELECT revision FROM policy_revision WHERE tenant_id = $1',
      [tenantId],
    );
    return Number(rows[0]?.revision ?? 0);
  }

  async #query<R extends pg.QueryResultRow>(
    operation: string,
    text: string,
    values: readonly unknown[],
  ): Promise<pg.QueryResult<R>> {
    try {
      return await this.#pool.query<R>(text, values as unknown[]);
    } catch (error) {
      throw storeError(operation, error);
    }
  }

  async #withClient<T>(
    operation: string,
    use: (client: pg.PoolClient, markBroken: (error: unknown) => void) => Promise<T>,
    pool: pg.Pool = this.#pool,
  ): Promise<T> {
    let client: pg.PoolClient;
    try {
      client = await pool.connect();
    } catch (error) {
      throw storeError(operation, error);
    }
    // Releasing with an error makes the pool discard the connection instead of handing it out again.
    let broken: Error | undefined;
    const markBroken = (error: unknown): void => {
      broken ??= error instanceof Error ? error : new Error(String(error));
    };
    // A checked-out client has no pool listener: without ours, a dropped connection would crash the process.
    client.on('error', markBroken);
    try {
      return await use(client, markBroken);
    } catch (error) {
      if (isPgConnectionError(error)) markBroken(error);
      throw storeError(operation, error);
    } finally {
      client.removeListener('error', markBroken);
      client.release(broken);
    }
  }

  #transaction<T>(operation: string, begin: string, work: Transaction<T>, pool: pg.Pool = this.#pool): Promise<T> {
    return this.#withClient(operation, async (client, markBroken) => {
      await client.query(begin);
      try {
        const { commit, value } = await work(client);
        await client.query(commit ? 'COMMIT' : 'ROLLBACK');
        return value;
      } catch (error) {
        // A session whose rollback fails is in an unknown state: never reuse it.
        await client.query('ROLLBACK').catch(markBroken);
        throw error;
      }
    }, pool);
  }
}

function withoutIds(snapshot: OrderedRules & { readonly revisions: ReadonlyMap<string, number> }): PolicySnapshot {
  return { revisions: snapshot.revisions, rules: snapshot.rules };
}

function* runsOfSameOp(
  changes: readonly PolicyChange[],
): Generator<{ readonly op: PolicyChange['op']; readonly changes: readonly PolicyChange[] }> {
  let start = 0;
  for (let i = 1; i <= changes.length; i += 1) {
    if (i === changes.length || changes[i]?.op !== changes[start]?.op) {
      const op = changes[start]?.op ?? 'add';
      yield { op, changes: changes.slice(start, i) };
      start = i;
    }
  }
}

function toPolicyRule(row: RuleRow): PolicyRule {
  return { ptype: row.ptype, values: row.rule };
}

function toPolicyChange(change: PolicyChange): PolicyChange {
  return { op: change.op, rule: { ptype: change.rule.ptype, values: change.rule.values } };
}

function storeError(operation: string, error: unknown): EngineError {
  if (isEngineError(error)) return error;
  const kind = isPgConnectionError(error) ? 'connection failure' : 'query failure';
  const sqlState = sqlStateOf(error);
  const message = error instanceof Error ? error.message : String(error);
  return new EngineError(
    'POLICY_STORE_UNAVAILABLE',
    `${operation}: ${kind}${sqlState === undefined ? '' : ` (SQLSTATE ${sqlState})`}: ${message}`,
    { cause: error },
  );
}
