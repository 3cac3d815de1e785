import type pg from 'pg';
import type { PolicyChange, PolicyTransaction, WriteResult } from '../engine/index.js';
import { subjectOf, type Caller } from '../platform/http/caller.js';
import { withTransaction } from '../platform/postgres-transaction.js';
import { endSessions, type SessionEndReason, type SessionsToEnd } from '../directory/sessions.js';
import type { IdentityDeps } from './deps.js';
import { assertIdentityLines } from './identity-line-shapes.js';
import { assertNoEscalation } from './no-escalation.js';
import { tokenCheckOf } from './token-check.js';
import { insertAuditEvent, type AuditEntry } from './audit/audit-store.js';


export interface WriteContext {
  readonly client: pg.PoolClient;
  /** The same transaction as the policy store reads it (the no-escalation checks take the tenant's policy lock in it). */
  readonly policyTransaction: PolicyTransaction;
  readonly tenantId: string;
  /**
   * Policy lines of Identity's own shapes (roles, groups, permission sets) to change in the same transaction as
   * the entity; refused with 409 when the configured model cannot read them.
   */
  policy(...changes: PolicyChange[]): void;
  /** Lines of the model's own shapes (the policy-lines API), validated by the engine against the model. */
  modelLines(...changes: PolicyChange[]): void;
  /**
   * Removes, with this write, every stored line of the tenant whose subject is `subject` (its grants and its
   * `g` links, whoever wrote them). Call it after the subject's rows are gone: it takes the tenant's policy
   * lock, so no line of the subject can be added behind it before the commit. A subject removed so gives
   * nobody anything by losing its deny lines (it is gone), so the no-escalation rule does not count them.
   */
  removeSubjectLines(subject: string): Promise<void>;
  audit(entry: AuditEntry): void;
  /**
   * Ends sessions with this write (the user's, the application's or the whole organization's): their refresh and
   * access tokens are refused from the commit on, at once on this replica and within the token check's staleness
   * bound on the others (see endSessions).
   */
  endSessions(which: Exclude<SessionsToEnd, { kind: 'session' }>, reason: SessionEndReason): Promise<void>;
}

export interface WriteOutcome<T> {
  readonly value: T;
  /** The tenant's policy revision after the write (unchanged when the write touched no policy). */
  readonly policyRevision: number;
}

/**
 * One Identity write: the entity rows, their policy lines (through the engine's `writeWithin`) and the audit
 * events commit together or not at all (a failed write leaves neither), then the new policy revision takes
 * effect in this process and is announced to every Auth replica (by `withTransaction`, after the commit).
 * Policy changes pass the no-escalation rule first, under the tenant's policy lock (`assertNoEscalation`, the
 * write's check): whatever route makes them, nobody gives more than it holds.
 */
export async function runWrite<T>(
  deps: IdentityDeps,
  actor: Pick<Caller, 'subject' | 'tenantId'>,
  requestId: string,
  work: (tx: WriteContext) => Promise<T>,
  tenantId: string = actor.tenantId,
): Promise<WriteOutcome<T>> {
  let policyResult: WriteResult | undefined;
  let ended: Exclude<SessionsToEnd, { kind: 'session' }>[] = [];
  const value = await withTransaction(deps.pool, async (client, policyTransaction) => {
    const changes: PolicyChange[] = [];
    ended = [];
    const audits: AuditEntry[] = [];
    const removedSubjects = new Set<string>();
    const value = await work({
      client,
      policyTransaction,
      tenantId,
      policy: (...c) => {
        assertIdentityLines(deps.engine.modelDefinition, c);
        changes.push(...c);
      },
      modelLines: (...c) => changes.push(...c),
      async removeSubjectLines(subject) {
        const rules = await deps.engine.rulesOfSubjectWithin(policyTransaction, tenantId, subject);
        changes.push(...rules.map((rule) => ({ op: 'remove' as const, rule })));
        removedSubjects.add(subject);
      },
      audit: (entry) => audits.push(entry),
      async endSessions(which, reason) {
        await endSessions(client, which, reason);
        ended.push(which);
      },
    });
    // With no changes this reads the committed revision, which this process may not have applied yet.
    policyResult = await deps.engine.writeWithin(policyTransaction, tenantId, changes, {
      check: (valid) => assertNoEscalation(deps, policyTransaction, actor, tenantId, valid, removedSubjects),
    });
    for (const entry of audits) await insertAuditEvent(client, tenantId, actor.subject, requestId, entry);
    return value;
  });
  forgetEnded(deps, ended);
  if (policyResult) return { value, policyRevision: policyResult.revision };
  await deps.engine.ensureTenant(tenantId);
  return { value, policyRevision: deps.engine.revisionOf(tenantId) };
}

/** After the commit: this replica's cached verdicts of the subjects whose sessions ended are dropped. */
function forgetEnded(deps: IdentityDeps, ended: readonly Exclude<SessionsToEnd, { kind: 'session' }>[]): void {
  const check = tokenCheckOf(deps);
  for (const which of ended) {
    if (which.kind === 'organization') check.forgetTenant(which.tenantId);
    else if (which.kind === 'user') check.forgetSubject(which.tenantId, subjectOf('user', which.userId));
    else check.forgetSubject(which.tenantId, subjectOf('application', which.applicationId));
  }
}

/** The header every Identity write answers with, so a caller can ask Auth for `minRevision` (read-your-writes). */
export function revisionHeaders(policyRevision: number): Record<string, string> {
  return { 'X-Policy-Revision': String(policyRevision) };
}
