/** The tenant fields of a subject as it is kept in JSON state (an MFA challenge's user, an authorization code's subject). */
export interface TenantNamed {
  readonly tenantId: string;
  readonly tenantSlug: string;
}

type StoredUnderEarlierNames<T> = Omit<T, keyof TenantNamed> & Partial<TenantNamed> & { readonly 'orgId'?: string; readonly 'orgSlug'?: string };

/**
 * A subject read back from JSON state, whichever names its tenant fields were written under: state written before
 * they were called `tenantId`/`tenantSlug` said `orgId`/`orgSlug`, and an older replica may still write it so during
 * a rolling upgrade. The earlier names are dropped from the answer.
 *
 * @example
 * const user = storedSubject(row.state.user); // { ..., tenantId, tenantSlug }
 */
export function storedSubject<T extends TenantNamed>(stored: T | StoredUnderEarlierNames<T>): T {
  const { ['orgId']: earlierId, ['orgSlug']: earlierSlug, ...rest } = stored as StoredUnderEarlierNames<T>;
  return { ...rest, tenantId: rest.tenantId ?? earlierId, tenantSlug: rest.tenantSlug ?? earlierSlug } as T;
}
