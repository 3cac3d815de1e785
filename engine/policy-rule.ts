/**
 * One stored policy line: `ptype` is the section key (`p`, `g`, `g2`, ...), `values` the fields after it,
 * exactly as Casbin sees them. `p, role:1, acme, accounts, get, allow` is
 * `{ ptype: 'p', values: ['role:1', 'acme', 'accounts', 'get', 'allow'] }`.
 */
export interface PolicyRule {
  readonly ptype: string;
  readonly values: readonly string[];
}

/** One edit of a tenant's policy. A batch of them is applied atomically under one new revision. */
export interface PolicyChange {
  readonly op: 'add' | 'remove';
  readonly rule: PolicyRule;
}

/** Every tenant's rules with the revision they were read at (one consistent snapshot). */
export interface PolicySnapshot {
  readonly revisions: ReadonlyMap<string, number>;
  readonly rules: readonly PolicyRule[];
}

/** One tenant's rules at one revision (one consistent snapshot). */
export interface TenantSnapshot {
  readonly tenantId: string;
  readonly revision: number;
  readonly rules: readonly PolicyRule[];
}

/** The changes that produced one revision of a tenant, as kept in the store's change log. */
export interface RevisionChanges {
  readonly tenantId: string;
  readonly revision: number;
  readonly changes: readonly PolicyChange[];
}

/** The answer of a write: the tenant's revision after it, and whether anything actually changed. */
export interface WriteResult {
  readonly tenantId: string;
  readonly revision: number;
  readonly changed: boolean;
}

export function isGroupingType(ptype: string): boolean {
  return ptype.startsWith('g');
}
