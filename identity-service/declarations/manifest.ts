import { createHash } from 'node:crypto';
import { z } from 'zod';
import { canonicalName } from '../../domain/canonical-name.js';
import type { Effect } from '../../domain/policy-lines.js';
import { isResourcePattern } from '../../engine/index.js';
import { applicationName, permissionAction, permissionEffect } from '../record-fields.js';

// A product's permission manifest: its schema, its canonical form and hash (a manifest published again unchanged
// is recognised whatever its order), and the lines and grants it declares.

export const maxRoleAssignments = 2_500;
/** Most distinct roles one manifest may name (in `roles` and in the permissions' `roles` together). */
export const maxDeclaredRoles = 50;

const roleName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.:@-]{0,63}$/, 'a role name: letters, digits and _ . : @ -, at most 64');
// The whole stored resource `{slug}/{resource}` must stay a valid pattern and fit an engine name (256).
const declaredResource = z
  .string()
  .min(1)
  .max(190)
  .refine((value) => isResourcePattern(`s/${value}`), 'a resource is segments of letters, digits and _ . : @ - separated by /, optionally ending in * or /*');
const groupName = z
  .string()
  .min(1)
  .max(200)
  .refine((value) => value.trim() === value && !/\p{Cc}/u.test(value), 'a group name without control characters or surrounding spaces');

export const manifestSchema = z
  .object({
    service: applicationName,
    version: z.string().min(1).max(64),
    permissions: z
      .array(z.object({ resource: declaredResource, action: permissionAction.max(64), effect: permissionEffect.default('allow'), roles: z.array(roleName).max(50) }).strict())
      .max(500),
    roles: z.array(z.object({ name: roleName, grantedTo: z.array(z.object({ group: groupName }).strict()).max(100) }).strict()).max(50),
  })
  .strict()
  .superRefine((manifest, ctx) => {
    const seen = new Set<string>();
    manifest.roles.forEach((role, index) => {
      if (seen.has(role.name)) ctx.addIssue({ code: 'custom', message: `role ${role.name} is declared twice`, path: ['roles', index, 'name'] });
      seen.add(role.name);
    });
    const assignments = manifest.permissions.reduce((sum, p) => sum + p.roles.length, 0);
    if (assignments > maxRoleAssignments) ctx.addIssue({ code: 'custom', message: `at most ${maxRoleAssignments} permission-role pairs`, path: ['permissions'] });
    // Role names are compared as /v1/roles compares them: two spellings of one canonical name are one role.
    const spellings = new Map<string, string>();
    const named = (name: string, path: (string | number)[]) => {
      const canonical = canonicalName(name);
      const first = spellings.get(canonical);
      if (first !== undefined && first !== name) ctx.addIssue({ code: 'custom', message: `role ${name} differs from role ${first} only by case or width`, path });
      if (first === undefined) spellings.set(canonical, name);
      if (first === undefined && spellings.size === maxDeclaredRoles + 1) ctx.addIssue({ code: 'custom', message: `at most ${maxDeclaredRoles} distinct roles`, path });
    };
    manifest.roles.forEach((role, index) => named(role.name, ['roles', index, 'name']));
    manifest.permissions.forEach((p, i) => p.roles.forEach((role, j) => named(role, ['permissions', i, 'roles', j])));
  })
  .meta({ id: 'Declaration', description: "A product's permission manifest; resources are stored as `{service}/{resource}`" });

export type Manifest = z.infer<typeof manifestSchema>;

/** The manifest in one form whatever the order or repetition it came in: what the hash and the diff read. */
export interface CanonicalManifest {
  readonly service: string;
  readonly version: string;
  readonly permissions: readonly { resource: string; action: string; effect: Effect; roles: string[] }[];
  readonly roles: readonly { name: string; grantedTo: { group: string }[] }[];
}

const byText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
export const sortedUnique = (values: Iterable<string>) => [...new Set(values)].sort(byText);

export function canonicalManifest(manifest: Manifest): CanonicalManifest {
  const permissions = new Map<string, { resource: string; action: string; effect: Effect; roles: Set<string> }>();
  for (const p of manifest.permissions) {
    const key = JSON.stringify([p.resource, p.action, p.effect]);
    const entry = permissions.get(key) ?? { resource: p.resource, action: p.action, effect: p.effect, roles: new Set<string>() };
    for (const role of p.roles) entry.roles.add(role);
    permissions.set(key, entry);
  }
  return {
    service: manifest.service,
    version: manifest.version,
    permissions: [...permissions.values()]
      .map((p) => ({ resource: p.resource, action: p.action, effect: p.effect, roles: sortedUnique(p.roles) }))
      .sort((a, b) => byText(a.resource, b.resource) || byText(a.action, b.action) || byText(a.effect, b.effect)),
    roles: manifest.roles
      .map((r) => ({ name: r.name, grantedTo: sortedUnique(r.grantedTo.map((g) => g.group)).map((group) => ({ group })) }))
      .sort((a, b) => byText(a.name, b.name)),
  };
}

/** JSON with object keys in code-unit order at every level, so equal manifests give equal text. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => byText(a, b));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

export function manifestHash(manifest: CanonicalManifest): string {
  return createHash('sha256').update(canonicalJson(manifest)).digest('hex');
}

export interface DeclaredPermission {
  readonly role: string;
  readonly resource: string;
  readonly action: string;
  readonly effect: Effect;
}

export interface DeclaredGrant {
  readonly role: string;
  readonly group: string;
}

export function declaredPermissions(slug: string, manifest: CanonicalManifest | undefined): DeclaredPermission[] {
  return (manifest?.permissions ?? []).flatMap((p) => p.roles.map((role) => ({ role, resource: `${slug}/${p.resource}`, action: p.action, effect: p.effect })));
}

export function declaredGrants(manifest: CanonicalManifest | undefined): DeclaredGrant[] {
  return (manifest?.roles ?? []).flatMap((r) => r.grantedTo.map(({ group }) => ({ role: r.name, group })));
}

export const permissionKey = (p: DeclaredPermission) => JSON.stringify([p.role, p.resource, p.action, p.effect]);
export const grantKey = (g: DeclaredGrant) => JSON.stringify([g.role, g.group]);

/** Where a role name first appears in the request, for the error's `field`. */
export function roleFields(manifest: Manifest): Map<string, string> {
  const fields = new Map<string, string>();
  manifest.roles.forEach((r, i) => fields.set(r.name, `body.roles.${i}.name`));
  manifest.permissions.forEach((p, i) => p.roles.forEach((role, j) => fields.has(role) || fields.set(role, `body.permissions.${i}.roles.${j}`)));
  return fields;
}

export function groupFields(manifest: Manifest): Map<string, string> {
  const fields = new Map<string, string>();
  manifest.roles.forEach((r, i) => r.grantedTo.forEach((g, j) => fields.has(g.group) || fields.set(g.group, `body.roles.${i}.grantedTo.${j}.group`)));
  return fields;
}
