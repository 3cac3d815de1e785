import type pg from 'pg';
import type { PolicyEngine } from '../engine/index.js';
import { createPasswordHasher } from '../platform/password-hasher.js';
import { withTransaction } from '../platform/postgres-transaction.js';
import { BootstrapError } from './bootstrap-error.js';
import { insertAudit } from './builtin-store.js';
import { desiredState } from './desired-state.js';
import { planReconcile, type AuditEvent } from './reconcile-plan.js';
import { loadSeed } from './seed-loader.js';

export interface ReconcileOptions {
  readonly pool: pg.Pool;
  /** Writes the seed's policy (validated against its model) and announces it to every running replica after the commit. */
  readonly engine: PolicyEngine;
  readonly mode: 'plan' | 'apply';
  /** The first administrator, created only when the organization has no built-in user yet. */
  readonly admin?: { readonly username: string; readonly password: string };
  /** Default: the seed shipped in `bootstrap/seed/`. */
  readonly seedDir?: string;
  /** Identity's public address, for `{IDENTITY_URL}` in the seed's redirect URIs (the console's); default http://localhost:4001. */
  readonly identityUrl?: string;
  /** Receives the plan, the outcome and, on apply, each new application's client secret (once). */
  readonly log?: (line: string) => void;
}

export interface ReconcileResult {
  readonly changes: readonly string[];
  readonly adminCreated: boolean;
  /** The seed's organization (the platform organization): the id single-tenant services need as DEFAULT_ORGANIZATION_ID. */
  readonly organization: { readonly id: string; readonly slug: string };
}

// One lock for every reconciler of the database, whichever process runs it.
const lockKey = 'access-manager:bootstrap-reconciler';
// A second reconciler waits for the first to commit rather than fail on the pool's short lock timeout.
const lockWaitMs = 60_000;

/**
 * Makes the built-in records and their policy what the seed says. `plan` computes the changes in a transaction
 * that is rolled back (nothing is written); `apply` makes them in one transaction under an advisory lock, so two
 * concurrent runs take turns and the second finds nothing to change. Only built-in records are written: what
 * administrators created is read only to refuse a change it stands in the way of (`BootstrapError('CONFLICT')`,
 * nothing written). Policy goes through the engine's `writeWithin` in the same transaction, bumping the
 * organization's revision when a line changes; after the commit the revision is announced on the engine's change
 * feed, so every running replica applies the release's seed at once.
 */
export async function reconcile(options: ReconcileOptions): Promise<ReconcileResult> {
  const log = options.log ?? (() => undefined);
  const desired = desiredState(await loadSeed(options.seedDir), options.identityUrl);
  // Argon2id at the OWASP floor (ARCHITECTURE known traps), as Identity's default.
  const passwords = createPasswordHasher();
  const apply = options.mode === 'apply';
  let outcome: { changes: readonly string[]; notes: readonly string[]; shown: string[]; adminCreated: boolean; revision?: number } | undefined;

  const rollback = new Error('plan only');
  try {
    await withTransaction(options.pool, async (client, policyTransaction) => {
      if (apply) {
        await client.query(`SET LOCAL lock_timeout = ${lockWaitMs}`);
        await client.query(`SET LOCAL statement_timeout = ${lockWaitMs}`);
        await client.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [lockKey]);
        await client.query('SET LOCAL lock_timeout TO DEFAULT');
        await client.query('SET LOCAL statement_timeout TO DEFAULT');
      }
      const rulesOfSubject = (tenantId: string, subject: string) => options.engine.rulesOfSubjectWithin(policyTransaction, tenantId, subject);
      const plan = await planReconcile({ client, rulesOfSubject, desired, admin: options.admin, passwords });
      if (!apply) {
        outcome = { changes: plan.changes, notes: [...plan.notes, ...plan.conflicts.map((c) => `conflict: ${c}`)], shown: [], adminCreated: false };
        throw rollback;
      }
      if (plan.conflicts.length > 0) throw new BootstrapError('CONFLICT', plan.conflicts);
      const audits: AuditEvent[] = [];
      const shown: string[] = [];
      const out = { audit: (event: AuditEvent) => audits.push(event), showOnce: (line: string) => shown.push(line) };
      for (const step of plan.steps) await step(client, out);
      const written = await options.engine.writeWithin(policyTransaction, desired.organization.id, plan.policy);
      await insertAudit(client, desired.organization.id, audits);
      outcome = { changes: plan.changes, notes: plan.notes, shown, adminCreated: plan.createsAdmin, ...(written.changed ? { revision: written.revision } : {}) };
    });
  } catch (error) {
    if (error !== rollback) throw error;
  }
  const { changes, notes, shown, adminCreated, revision } = outcome as NonNullable<typeof outcome>;

  if (changes.length === 0) log('nothing to change');
  else {
    log(apply ? `applied ${changes.length} change${changes.length === 1 ? '' : 's'}:` : `${changes.length} change${changes.length === 1 ? '' : 's'} to apply:`);
    for (const line of changes) log(`  ${line}`);
  }
  for (const line of notes) log(line);
  for (const line of shown) log(line);
  if (revision !== undefined) log(`policy revision of organization ${desired.organization.slug}: ${revision}`);
  return { changes, adminCreated, organization: { id: desired.organization.id, slug: desired.organization.slug } };
}
