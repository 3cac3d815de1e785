import type { Grant, PolicyChange, PolicyTransaction } from '../engine/index.js';
import type { Caller } from '../platform/http/caller.js';
import { escalationPermission } from '../domain/escalation-permission.js';
import { ServiceError } from '../platform/http/service-error.js';
import { ModelQuestions } from '../platform/authorization/model-questions.js';
import type { IdentityDeps } from './deps.js';

type Actor = Pick<Caller, 'subject' | 'tenantId'>;

/** Whose credentials a write changes: its engine subject, and whether the bootstrap seeded it. */
export interface CredentialsOwner {
  readonly subject: string;
  readonly builtin: boolean;
}

/**
 * Takes the tenant's policy lock in the write's transaction and brings this process's engine to the revision it
 * locked: from here to the commit nobody else changes the tenant's policy, so what the engine says the caller
 * holds (and what a change gives) is what the write will be applied to.
 */
async function lockPolicy(deps: IdentityDeps, tx: PolicyTransaction, tenantId: string): Promise<void> {
  const revision = await deps.engine.lockTenantWithin(tx, tenantId);
  // With tenants loaded on first use: what follows asks the engine synchronously about this tenant.
  await deps.engine.ensureTenant(tenantId);
  if (deps.engine.revisionOf(tenantId) < revision) await deps.engine.catchUp(tenantId);
  if (deps.engine.revisionOf(tenantId) !== revision) {
    throw new ServiceError('SERVICE_UNAVAILABLE', { detail: `engine at revision ${deps.engine.revisionOf(tenantId)} of ${tenantId}, locked ${revision}` });
  }
}

function isEscalationHolder(deps: IdentityDeps, actor: Actor, tenantId: string): boolean {
  // Asked in the model's own terms, so that any model's line can grant the exemption.
  return new ModelQuestions(deps.engine).decideSync({ subject: actor.subject, tenantId, resource: escalationPermission.resource, action: escalationPermission.action }).allowed;
}

function refusal(actor: Actor, missing: readonly Grant[], what: string): ServiceError {
  return new ServiceError('ESCALATION_REFUSED', {
    message: `${what}: the caller does not hold every permission this gives (see missing)`,
    detail: `${actor.subject} ${what}; missing ${missing.map((m) => `${m.resource} ${m.action}`).join(', ')}`,
    extensions: { missing },
  });
}

/**
 * The no-escalation rule for a write's policy changes, in the write's transaction before they are applied: the
 * actor must hold (in the engine's sense, on its own subject in `tenantId`) every pair the changes give — a
 * role's or permission set's allow lines, the roles a group is given, the roles of a group a user joins, a deny
 * lifted — unless it holds the escalation permission. Lines removed with a subject the write deletes
 * (`removedSubjects`: a user, an application and its set, a group without members, a role) lift nothing for
 * anyone; a group's link to a deleted role still counts, for the group's members. Refused: ESCALATION_REFUSED
 * naming what is missing, and the transaction rolls back, so nothing of the write remains.
 */
export async function assertNoEscalation(
  deps: IdentityDeps,
  tx: PolicyTransaction,
  actor: Actor,
  tenantId: string,
  changes: readonly PolicyChange[],
  removedSubjects: ReadonlySet<string> = new Set(),
): Promise<void> {
  if (changes.length === 0) return;
  await lockPolicy(deps, tx, tenantId);
  const given = deps.engine.grantsOf(
    tenantId,
    changes.filter((change) => change.op === 'add' || !removedSubjects.has(change.rule.values[0] ?? '')),
  );
  if (given.length === 0) return;
  const missing = deps.engine.missingGrants(tenantId, actor.subject, given);
  if (missing.length === 0 || isEscalationHolder(deps, actor, tenantId)) return;
  throw refusal(actor, missing, 'the write gives permissions');
}

/**
 * Changing another subject's credentials (a password reset, an MFA reset or disable, a new client secret) hands
 * the caller everything that subject holds. Allowed when the caller holds all of it (its own credentials need
 * nothing), and for a built-in subject — the seeded administrator, a product's application — only to holders of
 * the escalation permission. Call it inside the write's transaction (it takes the tenant's policy lock).
 */
export async function assertMayChangeCredentials(deps: IdentityDeps, tx: PolicyTransaction, actor: Actor, owner: CredentialsOwner): Promise<void> {
  if (!owner.builtin && owner.subject === actor.subject) return;
  const tenantId = actor.tenantId;
  await lockPolicy(deps, tx, tenantId);
  if (isEscalationHolder(deps, actor, tenantId)) return;
  if (owner.builtin) throw refusal(actor, [escalationPermission], `changing the credentials of built-in ${owner.subject}`);
  const missing = deps.engine.missingGrants(tenantId, actor.subject, deps.engine.grantsOfBinding(tenantId, owner.subject));
  if (missing.length > 0) throw refusal(actor, missing, `changing the credentials of ${owner.subject}`);
}
