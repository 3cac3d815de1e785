import { createHash } from 'node:crypto';

/**
 * The namespace of every built-in record's id. Never change it: the reconciler finds its records again by
 * these ids, so a new namespace would orphan every built-in of every deployment.
 */
export const builtinNamespace = 'f0f62794-9b01-4429-887d-63a2f95f457b';

/** A name-based UUID (RFC 9562 5.5, version 5: SHA-1 of namespace and name). */
export function uuidV5(namespace: string, name: string): string {
  const hex = namespace.replace(/-/g, '');
  if (!/^[0-9a-f]{32}$/i.test(hex)) throw new RangeError('namespace must be a UUID');
  const bytes = createHash('sha1').update(Buffer.from(hex, 'hex')).update(name, 'utf8').digest().subarray(0, 16);
  bytes[6] = ((bytes[6] as number) & 0x0f) | 0x50;
  bytes[8] = ((bytes[8] as number) & 0x3f) | 0x80;
  const out = bytes.toString('hex');
  return `${out.slice(0, 8)}-${out.slice(8, 12)}-${out.slice(12, 16)}-${out.slice(16, 20)}-${out.slice(20)}`;
}

/**
 * The one built-in organization has a fixed id, so renaming it (slug or name) in the seed changes the same
 * organization, and a deployment can name it in `DEFAULT_ORGANIZATION_ID` / `PLATFORM_ORGANIZATION_ID`.
 */
export const builtinOrganizationId = uuidV5(builtinNamespace, 'organization');

export type BuiltinKind = 'group' | 'role' | 'application' | 'user';

/**
 * The id of a built-in record: stable across runs and deployments, derived from its organization, kind and
 * name. Renaming a built-in in the seed therefore removes the old record and creates a new one.
 */
export function builtinId(tenantId: string, kind: BuiltinKind, name: string): string {
  return uuidV5(builtinNamespace, `${tenantId}/${kind}/${name}`);
}
