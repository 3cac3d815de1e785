import { createHash } from 'node:crypto';
import { z } from 'zod';
import { isResourcePattern } from '../../engine/index.js';
import { defineRoute, type AnyRoute } from '../../platform/http/route.js';
import { ServiceError } from '../../platform/http/service-error.js';
import { canonicalName } from '../../domain/canonical-name.js';
import { uniqueViolation } from '../../platform/postgres-transaction.js';
import type { IdentityDeps } from '../deps.js';
import { linkLine, permissionLine, subjects, type Effect } from '../../domain/policy-lines.js';
import { applicationName, permissionAction, permissionEffect } from '../record-fields.js';
import { findApplication } from '../../directory/applications.js';
import { lockRoleNames } from '../roles/roles-store.js';
import {
  deleteGroupRoles,
  deleteRolePermissions,
  findDeclaration,
  findGroupsByName,
  findRolesByCanonicalName,
  insertGroupRoles,
  insertRole,
  insertRolePermissions,
  saveDeclaration,
  touchRecords,
  type GroupRoleRow,
  type RolePermissionRow,
  type RoleRow,
} from '../store/declarations-store.js';
import { revisionHeaders, runWrite } from '../write-transaction.js';

const maxRoleAssignments = 2_500;
/** Most distinct roles one manifest may name (in `roles` and in the permissions' `roles` together). */
const maxDeclaredRoles = 50;

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

const manifestSchema = z
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

type Manifest = z.infer<typeof manifestSchema>;

/** The manifest in one form whatever the order or repetition it came in: what the hash and the diff read. */
interface CanonicalManifest {
  readonly service: string;
  readonly version: string;
  readonly permissions: readonly { resource: string; action: string; effect: Effect; roles: string[] }[];
  readonly roles: readonly { name: string; grantedTo: { group: string }[] }[];
}

const byText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
const sortedUnique = (values: Iterable<string>) => [...new Set(values)].sort(byText);

function canonicalManifest(manifest: Manifest): CanonicalManifest {
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

function manifestHash(manifest: CanonicalManifest): string {
  return createHash('sha256').update(canonicalJson(manifest)).digest('hex');
}

interface DeclaredPermission {
  readonly role: string;
  readonly resource: string;
  readonly action: string;
  readonly effect: Effect;
}

interface DeclaredGrant {
  readonly role: string;
  readonly group: string;
}

function declaredPermissions(slug: string, manifest: CanonicalManifest | undefined): DeclaredPermission[] {
  return (manifest?.permissions ?? []).flatMap((p) => p.roles.map((role) => ({ role, resource: `${slug}/${p.resource}`, action: p.action, effect: p.effect })));
}

function declaredGrants(manifest: CanonicalManifest | undefined): DeclaredGrant[] {
  return (manifest?.roles ?? []).flatMap((r) => r.grantedTo.map(({ group }) => ({ role: r.name, group })));
}

const permissionKey = (p: DeclaredPermission) => JSON.stringify([p.role, p.resource, p.action, p.effect]);
const grantKey = (g: DeclaredGrant) => JSON.stringify([g.role, g.group]);

/** Where a role name first appears in the request, for the error's `field`. */
function roleFields(manifest: Manifest): Map<string, string> {
  const fields = new Map<string, string>();
  manifest.roles.forEach((r, i) => fields.set(r.name, `body.roles.${i}.name`));
  manifest.permissions.forEach((p, i) => p.roles.forEach((role, j) => fields.has(role) || fields.set(role, `body.permissions.${i}.roles.${j}`)));
  return fields;
}

function groupFields(manifest: Manifest): Map<string, string> {
  const fields = new Map<string, string>();
  manifest.roles.forEach((r, i) => r.grantedTo.forEach((g, j) => fields.has(g.group) || fields.set(g.group, `body.roles.${i}.grantedTo.${j}.group`)));
  return fields;
}

const declaredBy = (slug: string) => `declared by ${slug}`;

/**
 * `PUT /v1/declarations/{slug}`: a product publishes its permission manifest at boot with its own application
 * token. The caller must be the product's application, by id: the one its slug's first declaration came from
 * (pinned in `declarations.application_id`), and before any, the application registered under the slug. What it
 * writes is fenced: resources only under `{slug}/`, roles only ones its application created (`roles.declared_by`,
 * names compared in canonical form under the tenant's role-name lock, at most 50 per manifest),
 * grants only to existing groups — and, as every Identity write, nothing it does not hold itself: its application
 * (its permission set) must hold every permission it puts in a role and every role's permissions it grants.
 *
 * A declaration owns the lines its previous manifest produced: a new manifest adds what is new and removes
 * exactly what the previous one declared and this one no longer does; lines an administrator added stay.
 */
export function declarationsRoutes(deps: IdentityDeps): AnyRoute[] {
  return [
    defineRoute({
      method: 'put',
      path: '/v1/declarations/{slug}',
      summary: "Publish a product's permission manifest (its own application token; idempotent by the manifest's hash)",
      tags: ['declarations'],
      auth: 'token',
      params: z.object({ slug: applicationName }).strict(),
      body: manifestSchema,
      responses: {
        200: {
          description: 'Applied, or unchanged when the manifest is the one last applied (no new policy revision)',
          schema: z.object({ changed: z.boolean(), policyRevision: z.number().int() }).meta({ id: 'DeclarationResult' }),
        },
      },
      async handler({ params, body, caller, requestId }) {
        const slug = params.slug;
        if (caller.kind !== 'application') throw new ServiceError('DECLARATION_FORBIDDEN', { detail: `${caller.subject} is not an application` });
        if (body.service !== slug) throw new ServiceError('VALIDATION_FAILED', { message: 'body.service: must equal the slug in the path', field: 'body.service' });
        const manifest = canonicalManifest(body);
        const hash = manifestHash(manifest);

        const { value, policyRevision: written } = await runWrite(deps, caller, requestId, async (tx) => {
          // The application row lock serialises this product's declarations (two replicas booting at once).
          const app = await findApplication(tx.client, tx.tenantId, caller.id, true);
          if (!app) throw new ServiceError('DECLARATION_FORBIDDEN', { detail: `${caller.subject} is no application of ${tx.tenantId}` });
          // The committed revision, read under the lock: this process may not have applied the last writer's yet.
          const { revision: committed } = await deps.engine.writeWithin(tx.policyTransaction, tx.tenantId, []);
          const previous = await findDeclaration(tx.client, tx.tenantId, slug);
          const owner = previous ? previous.application_id === app.id : app.name === slug;
          if (!owner) throw new ServiceError('DECLARATION_FORBIDDEN', { detail: `${caller.subject} is not the application ${slug} declares with` });
          if (previous?.manifest_hash === hash) return { changed: false, committed };
          const before = previous?.manifest as CanonicalManifest | undefined;

          const wantedPermissions = declaredPermissions(slug, manifest);
          const wantedGrants = declaredGrants(manifest);
          const wantedPermissionKeys = new Set(wantedPermissions.map(permissionKey));
          const wantedGrantKeys = new Set(wantedGrants.map(grantKey));
          const droppedPermissions = declaredPermissions(slug, before).filter((p) => !wantedPermissionKeys.has(permissionKey(p)));
          const droppedGrants = declaredGrants(before).filter((g) => !wantedGrantKeys.has(grantKey(g)));

          const fieldOfGroup = groupFields(body);
          const groups = new Map((await findGroupsByName(tx.client, tx.tenantId, sortedUnique([...wantedGrants, ...droppedGrants].map((g) => g.group)))).map((g) => [g.name, g.id]));
          for (const [group, field] of fieldOfGroup) {
            if (!groups.has(group)) throw new ServiceError('REFERENCE_NOT_FOUND', { message: `${field}: no group named ${group}`, field });
          }

          const fieldOfRole = roleFields(body);
          const wantedRoles = [...fieldOfRole.keys()];
          await lockRoleNames(tx.client, tx.tenantId);
          const found = await findRolesByCanonicalName(
            tx.client,
            tx.tenantId,
            sortedUnique([...wantedRoles, ...droppedPermissions.map((p) => p.role), ...droppedGrants.map((g) => g.role)].map(canonicalName)),
          );
          const ours = new Map(found.filter((r) => r.declared_by === app.id).map((r) => [canonicalName(r.name), r]));
          const theirs = new Map(found.filter((r) => r.declared_by !== app.id).map((r) => [canonicalName(r.name), r]));
          // By the name the manifest uses: a role of ours stored under another spelling of it is the same role.
          const roles = new Map<string, RoleRow>();
          for (const name of sortedUnique([...wantedRoles, ...droppedPermissions.map((p) => p.role), ...droppedGrants.map((g) => g.role)])) {
            const role = ours.get(canonicalName(name));
            if (role) roles.set(name, role);
          }
          const created: string[] = [];
          for (const name of sortedUnique(wantedRoles)) {
            const field = fieldOfRole.get(name);
            if (theirs.has(canonicalName(name))) {
              throw new ServiceError('NAME_TAKEN', { message: `${field}: the role ${name} exists and was not declared by this application`, ...(field ? { field } : {}) });
            }
            if (roles.has(name)) continue;
            try {
              roles.set(name, await insertRole(tx.client, tx.tenantId, name, declaredBy(slug), app.id));
              created.push(name);
            } catch (error) {
              if (uniqueViolation(error)) throw new ServiceError('NAME_TAKEN', { message: `${field}: the role ${name} was just created by someone else`, ...(field ? { field } : {}) });
              throw error;
            }
          }

          // Names of the previous manifest that no longer resolve (a role or group deleted since) have no lines left.
          const permissionRows = (list: readonly DeclaredPermission[]): RolePermissionRow[] =>
            list.flatMap((p) => {
              const role = roles.get(p.role);
              return role ? [{ roleId: role.id, resource: p.resource, action: p.action, effect: p.effect }] : [];
            });
          const grantRows = (list: readonly DeclaredGrant[]): GroupRoleRow[] =>
            list.flatMap((g) => {
              const role = roles.get(g.role);
              const groupId = groups.get(g.group);
              return role && groupId ? [{ groupId, roleId: role.id }] : [];
            });
          const removePermissions = permissionRows(droppedPermissions);
          const addPermissions = permissionRows(wantedPermissions);
          const removeGrants = grantRows(droppedGrants);
          const addGrants = grantRows(wantedGrants);

          const touchedRoles = [
            ...(await deleteRolePermissions(tx.client, tx.tenantId, removePermissions)),
            ...(await insertRolePermissions(tx.client, tx.tenantId, addPermissions)),
          ];
          const touchedGrants = [...(await deleteGroupRoles(tx.client, tx.tenantId, removeGrants)), ...(await insertGroupRoles(tx.client, tx.tenantId, addGrants))];
          await touchRecords(tx.client, 'roles', tx.tenantId, [...touchedRoles, ...touchedGrants.map((g) => g.roleId)]);
          await touchRecords(tx.client, 'groups', tx.tenantId, touchedGrants.map((g) => g.groupId));

          // Every wanted line is (re)written: the store keeps only the effective changes, so lines already in place
          // cost no revision, and a line lost since the last declaration comes back.
          tx.policy(
            ...removePermissions.map((p) => permissionLine('remove', subjects.role(p.roleId), tx.tenantId, p.resource, p.action, p.effect)),
            ...removeGrants.map((g) => linkLine('remove', subjects.group(g.groupId), subjects.role(g.roleId), tx.tenantId)),
            ...addPermissions.map((p) => permissionLine('add', subjects.role(p.roleId), tx.tenantId, p.resource, p.action, p.effect)),
            ...addGrants.map((g) => linkLine('add', subjects.group(g.groupId), subjects.role(g.roleId), tx.tenantId)),
          );

          await saveDeclaration(tx.client, tx.tenantId, { slug, applicationId: app.id, service: manifest.service, version: manifest.version, manifestHash: hash, manifest });
          tx.audit({
            action: 'declaration.apply',
            targetType: 'declaration',
            targetId: slug,
            ...(previous ? { before: { version: previous.version, manifestHash: previous.manifest_hash } } : {}),
            after: {
              version: manifest.version,
              manifestHash: hash,
              rolesCreated: created,
              permissionsRemoved: removePermissions.length,
              grantsRemoved: removeGrants.length,
            },
          });
          return { changed: true, committed };
        });
        // After a policy change `written` is the new revision; without one it is this process's view, maybe older.
        const policyRevision = Math.max(written, value.committed);
        return { body: { changed: value.changed, policyRevision }, headers: revisionHeaders(policyRevision) };
      },
    }),
  ];
}
